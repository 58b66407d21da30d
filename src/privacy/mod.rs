//! Privacy helpers for text: finding personal data so it can be labelled or
//! masked before anything leaves the workstation.
//!
//! [`pii`] proposes spans of personal data (e-mail, phone, payment card,
//! IBAN, IP address, date of birth in context, a documented set of national
//! ids, and person names from an admin-provided list) and masks them without
//! changing the text's length in characters.

pub mod audio_mask;
pub mod derive;
pub mod image_mask;
pub mod metadata;
pub mod pii;
pub mod window;
