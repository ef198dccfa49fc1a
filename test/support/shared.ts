// The reference material beside the repository (`../shared`): the Spotify OpenAPI file, FACTS.md, real-shaped pages
// and the Compose Specification. CI clones the repository with ../shared beside it; SHARED_DIR overrides.
import path from 'node:path';

export const SHARED_DIR = process.env.SHARED_DIR ?? path.resolve(import.meta.dirname, '../../../shared');
export const SPOTIFY_DIR = path.join(SHARED_DIR, 'spotify');
export const PAGES_DIR = path.join(SPOTIFY_DIR, 'pages');
