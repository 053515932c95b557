// What every screen may read: the signed-in staff user, their rights, and the association's
// settings. app.js fills it in at sign-in.

export const ctx = {
  viewer: null,
  settings: null,
  policy: null,
  // A second factor is required and this user has none: only the account screen works.
  setupRequired: false,
  has(right) {
    return Boolean(this.viewer && this.viewer.rights.includes(right));
  },
};
