//! The fixed vocabularies the command line takes — roles, statuses, kinds,
//! formats — as clap value enums, so `--help`, the man pages and the shell
//! completions list them from one place (formats from the registry in
//! [`crate::formats`]).
//!
//! A value outside a list is not a usage error here: it is kept as typed
//! and refused where it always was (by the command or the controller), with
//! the same message and exit code 1 that scripts and `tests/cli.rs` rely on
//! (`user add --role boss` exits 1 saying "unknown role 'boss'").

use clap::ValueEnum;
use clap::builder::{PossibleValue, TypedValueParser};
use std::ffi::OsStr;
use std::fmt;
use std::marker::PhantomData;

use crate::controller::Resolution;
use crate::model::Role;

/// A value from the list of `T`, or the text typed when it is not one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice<T> {
    text: String,
    known: Option<T>,
}

impl<T> Choice<T> {
    /// The value as typed.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The value, if it is one of the list.
    pub fn known(&self) -> Option<&T> {
        self.known.as_ref()
    }
}

impl<T> fmt::Display for Choice<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Parses a [`Choice`]: lists `T`'s values for help and completions,
/// accepts any UTF-8 text (see the module comment for why).
pub struct ChoiceParser<T>(PhantomData<fn() -> T>);

impl<T> ChoiceParser<T> {
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T> Default for ChoiceParser<T> {
    fn default() -> Self {
        Self::new()
    }
}

// Not derived: a derive would ask `T: Clone` of the marker.
impl<T> Clone for ChoiceParser<T> {
    fn clone(&self) -> Self {
        Self::new()
    }
}

impl<T: ValueEnum + Clone + Send + Sync + 'static> TypedValueParser for ChoiceParser<T> {
    type Value = Choice<T>;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<Self::Value, clap::Error> {
        let text = utf8(cmd, value)?;
        Ok(Choice {
            known: T::from_str(&text, false).ok(),
            text,
        })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            T::value_variants()
                .iter()
                .filter_map(ValueEnum::to_possible_value),
        ))
    }
}

fn utf8(cmd: &clap::Command, value: &OsStr) -> Result<String, clap::Error> {
    value
        .to_str()
        .map(str::to_string)
        .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::InvalidUtf8).with_cmd(cmd))
}

/// Which registry a `--format` names.
#[derive(Clone, Copy, Debug)]
pub enum FormatList {
    /// `export --format`: every exporter, with its description.
    Export,
    /// `import --prelabels FILE --format`: every pre-label importer.
    Prelabels,
}

/// `--format`: a format name from [`crate::formats`], listed in `--help`
/// from the registry, so a new format shows up without editing the help.
/// An unknown name is passed on and refused by the export or import as
/// before.
#[derive(Clone, Copy, Debug)]
pub struct FormatName(pub FormatList);

impl TypedValueParser for FormatName {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<Self::Value, clap::Error> {
        utf8(cmd, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        let values: Vec<PossibleValue> = match self.0 {
            FormatList::Export => crate::formats::exporters()
                .iter()
                .map(|e| PossibleValue::new(e.name()).help(e.description()))
                .collect(),
            FormatList::Prelabels => crate::formats::importers()
                .iter()
                .map(|i| PossibleValue::new(i.name()).help(i.description()))
                .collect(),
        };
        Some(Box::new(values.into_iter()))
    }
}

// The domain's own enums get their command-line names here, so `model` and
// `controller` know nothing of clap.

impl ValueEnum for Role {
    fn value_variants<'a>() -> &'a [Self] {
        &Role::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.as_str()))
    }
}

impl ValueEnum for Resolution {
    fn value_variants<'a>() -> &'a [Self] {
        &[Resolution::Remask, Resolution::Remove, Resolution::Release]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(match self {
            Resolution::Remask => "remask",
            Resolution::Remove => "remove",
            Resolution::Release => "release",
        }))
    }
}

/// `export --status`: which items' labels are exported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportStatus {
    /// Approved items only.
    Approved,
    /// Every item, whatever its status.
    All,
}

/// `mask list --status`: a masking decision's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MaskStatus {
    Proposed,
    Accepted,
    Rejected,
}

/// `consent set --consent`: what the data subject agreed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Consent {
    Unknown,
    Granted,
    Withdrawn,
}

/// `incident flag --kind`: what is wrong with an item
/// ([`crate::controller::INCIDENT_KINDS`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum IncidentKind {
    /// Unmasked personal data.
    Pii,
    /// Wrong data.
    WrongData,
    /// Disturbing content.
    Disturbing,
    /// Other.
    Other,
}

/// `assign --purpose`: what the assigned person does with the items.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AssignPurpose {
    Annotate,
    Review,
    Gold,
}

/// The names the lists above give, for the tests that hold them to the
/// controller's.
#[cfg(test)]
fn names<T: ValueEnum>() -> Vec<String> {
    T::value_variants()
        .iter()
        .filter_map(|v| v.to_possible_value())
        .map(|p| p.get_name().to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incident_kinds_are_the_controllers() {
        assert_eq!(names::<IncidentKind>(), crate::controller::INCIDENT_KINDS);
    }

    #[test]
    fn roles_and_resolutions_keep_their_spellings() {
        assert_eq!(
            names::<Role>(),
            ["admin", "reviewer", "annotator", "auditor"]
        );
        for r in Resolution::value_variants() {
            let name = r.to_possible_value().unwrap().get_name().to_string();
            assert_eq!(Resolution::parse(&name), Some(*r));
        }
        assert_eq!(names::<Consent>(), ["unknown", "granted", "withdrawn"]);
        assert_eq!(names::<MaskStatus>(), ["proposed", "accepted", "rejected"]);
        assert_eq!(names::<ExportStatus>(), ["approved", "all"]);
        assert_eq!(names::<AssignPurpose>(), ["annotate", "review", "gold"]);
    }

    #[test]
    fn a_value_outside_the_list_is_kept_for_the_command_to_refuse() {
        let cmd = clap::Command::new("t");
        let p = ChoiceParser::<Role>::new();
        let boss = p.parse_ref(&cmd, None, OsStr::new("boss")).unwrap();
        assert_eq!((boss.as_str(), boss.known()), ("boss", None));
        let admin = p.parse_ref(&cmd, None, OsStr::new("admin")).unwrap();
        assert_eq!(admin.known(), Some(&Role::Admin));
    }

    #[test]
    fn export_formats_come_from_the_registry() {
        let listed: Vec<String> = FormatName(FormatList::Export)
            .possible_values()
            .unwrap()
            .map(|p| p.get_name().to_string())
            .collect();
        let registry: Vec<&str> = crate::formats::exporters()
            .iter()
            .map(|e| e.name())
            .collect();
        assert_eq!(listed, registry);
        assert!(listed.iter().any(|n| n == "coco"));
    }
}
