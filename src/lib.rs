//! Sealtag: offline labelling of sensitive images, audio and text.
//!
//! Layers, from the bottom: [`crypto`] (reviewed primitives), [`bundle`]
//! (files on disk), [`store`] (the only SQL), [`project`] (unlocking a
//! bundle), [`controller`] (permissions + audit around every action), and the
//! two front ends, [`cli`] and (with the `gui` feature) `gui`.

#![deny(unsafe_code)]

pub mod audit;
pub mod bench;
pub mod bundle;
pub mod cli;
pub mod controller;
pub mod crypto;
pub mod demo;
pub mod events;
pub mod formats;
pub mod governance;
pub mod home;
pub mod ids;
pub mod import;
pub mod media;
pub mod membership;
pub mod model;
pub mod package;
pub mod packaging;
pub mod passphrase;
pub mod peaks;
pub mod permissions;
pub mod platform;
pub mod privacy;
pub mod project;
pub mod quality;
pub mod store;
pub mod text_offsets;
pub mod watermark;

#[cfg(feature = "gui")]
pub mod gui;

pub use controller::{CoreError, Session};
