// The pages a person sees during login: what happened and what to do, in plain words.
const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

export interface Page {
  status: number;
  html: string;
}

function page(status: number, title: string, paragraphs: string[], link?: { href: string; text: string }): Page {
  const body = paragraphs.map((p) => `<p>${escape(p)}</p>`).join('\n    ');
  const a = link ? `\n    <p><a href="${escape(link.href)}">${escape(link.text)}</a></p>` : '';
  return {
    status,
    html: `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>playledger: ${escape(title)}</title></head>
  <body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
    <h1>${escape(title)}</h1>
    ${body}${a}
  </body>
</html>
`,
  };
}

export const pages = {
  success: (displayName: string | null, paused: boolean) =>
    page(200, 'You are logged in', [
      `playledger is now connected to the Spotify account ${displayName ? `of ${displayName}` : 'you logged in with'}.`,
      paused
        ? 'An operator has paused this account, so nothing is recorded until they resume it.'
        : 'Your listening history will be recorded from now on, every few minutes. You can close this window.',
      'Spotify asks everyone to log in again every six months; you will be reminded before then.',
    ]),
  stateMissing: (loginUrl: string) =>
    page(400, 'This login cannot be completed', [
      'The answer from Spotify did not come with the login it belongs to, so it was not accepted.',
      'Please start the login again.',
    ], { href: loginUrl, text: 'Log in with Spotify' }),
  stateInvalid: (loginUrl: string) =>
    page(400, 'This login link has expired or was already used', [
      'For your safety each login can be completed once, within a few minutes.',
      'Please start the login again.',
    ], { href: loginUrl, text: 'Log in with Spotify' }),
  otherBrowser: (loginUrl: string) =>
    page(400, 'This login was started somewhere else', [
      'The login can only be completed in the browser where it was started, and that browser must accept cookies.',
      'Please start the login again here.',
    ], { href: loginUrl, text: 'Log in with Spotify' }),
  busy: () =>
    page(503, 'Too many logins right now', [
      'More logins were started in the last few minutes than this service accepts, so this one was not started.',
      'Please try again in a few minutes.',
    ]),
  denied: (loginUrl: string) =>
    page(403, 'You did not allow access', [
      'Spotify says you chose not to give playledger access, so nothing was connected and nothing will be recorded.',
      'If that was a mistake, log in again and choose "Agree".',
    ], { href: loginUrl, text: 'Log in with Spotify' }),
  spotifyError: (loginUrl: string, error: string) =>
    page(400, 'Spotify did not complete the login', [
      `Spotify answered with "${error}".`,
      'Please try again. If it keeps happening, ask the operator to check the Spotify app settings.',
    ], { href: loginUrl, text: 'Log in with Spotify' }),
  codeRejected: (loginUrl: string) =>
    page(400, 'Spotify did not accept this login', [
      'The login code from Spotify was refused (it may have been used already, or have expired).',
      'Please start the login again.',
    ], { href: loginUrl, text: 'Log in with Spotify' }),
  notAllowed: (loginUrl: string) =>
    page(403, 'Spotify did not let playledger read your account', [
      'Spotify accepted the login but refused access to your profile.',
      'While a Spotify app is in development mode, only the accounts its owner added under "User Management" in the Spotify developer dashboard may use it. Ask the operator to add your account, then log in again.',
    ], { href: loginUrl, text: 'Log in with Spotify' }),
  unavailable: (loginUrl: string) =>
    page(503, 'Spotify could not be reached', [
      'Nothing was changed. Spotify (or our storage) did not answer in time.',
      'Please try again in a minute.',
    ], { href: loginUrl, text: 'Log in with Spotify' }),
  failed: (loginUrl: string) =>
    page(500, 'Something went wrong', ['The login could not be completed because of an error on our side. It has been logged.', 'Please try again later.'], {
      href: loginUrl,
      text: 'Log in with Spotify',
    }),
};
