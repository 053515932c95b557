// Generated from the GraphQL schema by `cargo run -q -- schema --console-enums > src/http/staff/enums.js`.
// Do not edit: a test compares this file with the schema.

/** ProfileKind: [value, description] */
export const ProfileKind = [
  ['ORGANIZATION', "A company or other organisation. People can be related to it."],
  ['INDIVIDUAL', "A person, on their own or related to an organisation."],
];

/** MemberStatus: [value, description] */
export const MemberStatus = [
  ['ACTIVE', "A current member."],
  ['PROSPECT', "Someone the association hopes to sign up."],
  ['LAPSED', "A former member whose membership ran out."],
  ['NON_MEMBER', "Not a member, for example a contact of a member organisation."],
];

/** Right: [value, description] */
export const Right = [
  ['MANAGE_PROFILES', "Create and edit profiles."],
  ['MANAGE_PORTAL_CREDENTIALS', "Set and remove members' portal usernames and passwords, and see credential metadata."],
  ['SEND_PASSWORD_RESETS', "Send password-reset emails and issue one-time credential links."],
  ['SEND_MASS_COMMUNICATIONS', "Compose and send mass communications."],
  ['VIEW_PORTAL_PASSWORDS', "See a staff-assigned password while it is still in force. Member-chosen passwords are never shown."],
  ['MANAGE_STAFF', "Create staff users, change their rights and deactivate them."],
  ['VIEW_AUDIT_LOG', "Read the audit log."],
  ['IMPERSONATE_MEMBERS', "View the portal as a member (startPortalImpersonation): a read-only session of at most 15 minutes, audited and shown to the member."],
  ['MANAGE_PERSONAL_DATA', "Export a person's data at their request (exportProfileData), audited on the profile."],
  ['MANAGE_CONNECTED_SITES', "Register the association's sites that sign members in through memberkey (OpenID Connect clients), change them and give them new secrets."],
];

/** MassPurpose: [value, description] */
export const MassPurpose = [
  ['SERVICE', "Credentials and service notices: every member gets it, opted out of news or not. It may carry `{{portal_login_credentials_link}}` and may not carry `{{unsubscribe_link}}`."],
  ['NEWS', "News and everything else: it must carry `{{unsubscribe_link}}`, its mail has the one-click unsubscribe headers (RFC 8058), members who opted out are skipped (OPTED_OUT), and it may not carry the credentials link."],
];

/** MassCommunicationStatus: [value, description] */
export const MassCommunicationStatus = [
  ['DRAFT', "Being written; can be changed."],
  ['QUEUED', "Sent by staff; deliveries wait for the worker."],
  ['SENDING', "Deliveries are going out."],
  ['SENT', "Every delivery ended; at least one reached the provider."],
  ['CANCELLED', "Stopped by staff; deliveries not yet handed over were cancelled."],
  ['FAILED', "Every delivery that was tried failed."],
  ['PAUSED', "Stopped by itself because too many deliveries failed (see `pauseReason`); the rest wait until `resumeMassCommunication` or `cancelMassCommunication`."],
];

/** DeliveryStatus: [value, description] */
export const DeliveryStatus = [
  ['QUEUED', "Waiting for the worker."],
  ['SENDING', "Being handed to the provider."],
  ['SENT', "Accepted by the provider."],
  ['FAILED', "Refused for good."],
  ['SKIPPED', "Not sent, with a reason."],
  ['CANCELLED', "Cancelled before sending."],
  ['DELIVERED', "Accepted, and reported by the provider as delivered to the recipient's mail server."],
  ['BOUNCED', "Accepted, then bounced for good; the error holds the diagnostic and the address is suppressed."],
  ['COMPLAINED', "Delivered, then reported as spam by the recipient; the address is suppressed and the profile opted out of mass mail."],
];

/** LinkState: [value, description] */
export const LinkState = [
  ['UNUSED', "Not used yet, and still within its lifetime."],
  ['USED', "The member set a password with it."],
  ['EXPIRED', "Its lifetime ran out unused."],
  ['REPLACED', "A later link or a new password retired it before it was used."],
];
