// Advisory lock keys (two int4 keys: a class, an object), so that this project's locks never collide.
export const MIGRATION_LOCK: [number, number] = [718_201, 1];
/** pg_advisory_xact_lock(USER_LOCK_CLASS, hashtext(user_id)): one loader or gap evaluation per user at a time */
export const USER_LOCK_CLASS = 718_202;
