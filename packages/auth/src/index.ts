// Public surface of @taskpulse/auth; each module exports its own part.
export {};
