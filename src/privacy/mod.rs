//! Privacy helpers: finding personal data so it can be labelled or masked,
//! and masking it before anything leaves the workstation.
//!
//! [`pii`] proposes spans of personal data (e-mail, phone, payment card,
//! IBAN, IP address, date of birth in context, a documented set of national
//! ids, and person names from an admin-provided list) and masks them without
//! changing the text's length in characters.
//!
//! [`image_mask`] makes the image an annotator receives: regions (rectangles
//! and polygons) filled, blurred or pixelated, an optional crop, and no
//! metadata.
//!
//! [`audio_mask`] makes the recording an annotator receives: time ranges
//! muted or replaced by a tone, an optional time window, and no tags.
//!
//! [`window`] maps labels into and out of a crop, excerpt or time window;
//! [`derive`] turns an item and its privacy plan into the derivative an
//! annotator receives (the one code path for packages, previews and
//! exports); [`metadata`] rebuilds JPEGs and PNGs from an allow-list of
//! the parts a decoder needs, which is how metadata is stripped.

pub mod audio_mask;
pub mod derive;
pub mod image_mask;
pub mod metadata;
pub mod pii;
pub mod window;
