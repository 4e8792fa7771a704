export const SESSION_COOKIE = 'onramp.sid';
