// The limits of POST /v1/qoe that the web player needs too, in a module without zod (the
// schemas in qoe.ts would pull zod into the player's bundle).

export const MAX_QOE_REPORTS_PER_REQUEST = 20;
