import { API_KEY_REVOKED_V1 } from './events/api-key-revoked.v1';
import { CONSENT_CHANGED_V1 } from './events/consent-changed.v1';
import { CONTACT_CREATED_V1 } from './events/contact-created.v1';
import { CONTACT_ERASED_V1 } from './events/contact-erased.v1';
import { CONTACT_ERASED_V2 } from './events/contact-erased.v2';
import { CONTACT_MERGED_V1 } from './events/contact-merged.v1';
import { CONTACT_TAGGED_V1 } from './events/contact-tagged.v1';
import { CONTACT_UNTAGGED_V1 } from './events/contact-untagged.v1';
import { CONTACT_UPDATED_V1 } from './events/contact-updated.v1';
import { LIST_MEMBERSHIP_CHANGED_V1 } from './events/list-membership-changed.v1';
import { OBJECT_RECORD_CHANGED_V1 } from './events/object-record-changed.v1';
import { WORKSPACE_CREATED_V1 } from './events/workspace-created.v1';
import { VERIFY_API_KEY_V1 } from './requests/api-key-verify.v1';

export * from './events/api-key-revoked.v1';
export * from './events/consent-changed.v1';
export * from './events/contact-created.v1';
export * from './events/contact-erased.v1';
export * from './events/contact-erased.v2';
export * from './events/contact-merged.v1';
export * from './events/contact-tagged.v1';
export * from './events/contact-untagged.v1';
export * from './events/contact-updated.v1';
export * from './events/list-membership-changed.v1';
export * from './events/object-record-changed.v1';
export * from './events/workspace-created.v1';
export * from './requests/api-key-verify.v1';

/** Events the CRM publishes. Adding one = a file under events/ + a line here. */
export const CRM_EVENTS = {
  [CONTACT_CREATED_V1.subject]: CONTACT_CREATED_V1,
  [CONTACT_UPDATED_V1.subject]: CONTACT_UPDATED_V1,
  [CONTACT_MERGED_V1.subject]: CONTACT_MERGED_V1,
  [CONTACT_ERASED_V1.subject]: CONTACT_ERASED_V1,
  [CONTACT_ERASED_V2.subject]: CONTACT_ERASED_V2,
  [CONSENT_CHANGED_V1.subject]: CONSENT_CHANGED_V1,
  [CONTACT_TAGGED_V1.subject]: CONTACT_TAGGED_V1,
  [CONTACT_UNTAGGED_V1.subject]: CONTACT_UNTAGGED_V1,
  [LIST_MEMBERSHIP_CHANGED_V1.subject]: LIST_MEMBERSHIP_CHANGED_V1,
  [OBJECT_RECORD_CHANGED_V1.subject]: OBJECT_RECORD_CHANGED_V1,
  [WORKSPACE_CREATED_V1.subject]: WORKSPACE_CREATED_V1,
  [API_KEY_REVOKED_V1.subject]: API_KEY_REVOKED_V1,
} as const;

/** Requests the CRM answers. */
export const CRM_REQUESTS = {
  [VERIFY_API_KEY_V1.subject]: VERIFY_API_KEY_V1,
} as const;
