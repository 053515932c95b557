// What every screen may read: the signed-in staff user, their rights, and the association's
// settings. app.js fills it in at sign-in.

export const ctx = {
  viewer: null,
  settings: null,
  policy: null,
  has(right) {
    return Boolean(this.viewer && this.viewer.rights.includes(right));
  },
};
