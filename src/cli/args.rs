//! The command-line grammar. Names here are a contract used by scripts and
//! other tools; README documents them with their exit codes.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

use super::values::{
    AssignPurpose, Choice, ChoiceParser, Consent, ExportStatus, FormatList, FormatName,
    IncidentKind, MaskStatus,
};
use crate::controller::Resolution;
use crate::model::Role;

#[derive(Debug, Parser)]
#[command(name = "sealtag", version, about = "Offline labelling of sensitive data: encrypted bundles, audit chain, no network", long_about = None)]
pub struct Cli {
    /// Identity and data directory (default: the platform data dir).
    #[arg(long, global = true, env = "SEALTAG_HOME")]
    pub home: Option<PathBuf>,

    /// Read the passphrase from this file's first line instead of prompting.
    #[arg(long, global = true, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,

    /// GUI test hook: close the window after this many seconds.
    #[arg(long, global = true, hide = true)]
    pub exit_after_secs: Option<f64>,

    /// GUI test hook: save a PNG screenshot just before closing.
    #[arg(long, global = true, hide = true, value_name = "PNG")]
    pub screenshot: Option<PathBuf>,

    /// GUI hook for screenshots and scripts: run these workspace commands
    /// (ids like toggle_help, schema_editor, settings) once a project opens.
    #[arg(long = "run", global = true, hide = true, value_name = "COMMAND")]
    pub run_on_open: Vec<String>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the GUI on the embedded demo project (created on first run).
    Demo {
        /// Only create the demo bundle and print where it is; no GUI.
        #[arg(long)]
        setup_only: bool,
    },
    /// Open the GUI on a project bundle (skips the project picker).
    Open {
        /// Path of the project bundle directory.
        path: PathBuf,
    },
    /// Create or show your identity.
    #[command(subcommand)]
    Identity(IdentityCommand),
    /// Create or inspect a project bundle.
    #[command(subcommand)]
    Project(ProjectCommand),
    /// Enrol, list and remove project members.
    #[command(subcommand)]
    User(UserCommand),
    /// Import image, audio and text files or whole folders.
    Import(ImportArgs),
    /// Export labels (and media) in a standard format: a signed folder by
    /// default, a sealed package with --to, a plain folder with --unsigned.
    Export(ExportArgs),
    /// List the items you may see.
    Items {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        json: bool,
    },
    /// Assign items to a member.
    Assign(AssignArgs),
    /// Make, open and list sealed packages between the site and laptops.
    #[command(subcommand)]
    Package(PackageCommand),
    /// Review submitted work: the queue, approve, reject with a comment, correct.
    #[command(subcommand)]
    Review(ReviewCommand),
    /// Comments on items and labels.
    #[command(subcommand)]
    Comment(CommentCommand),
    /// Gold items: their labels become the standard annotators are scored on.
    #[command(subcommand)]
    Gold(GoldCommand),
    /// Quality figures: progress, throughput, agreement, gold scores.
    #[command(subcommand)]
    Quality(QualityCommand),
    /// Find personal data (emails, phones, cards, IBANs, IPs, dates of
    /// birth, national ids, listed names) in a file or a project's texts.
    #[command(subcommand)]
    Pii(PiiCommand),
    /// Data kept only as long as needed: purge items past the project's
    /// retention period (crypto-shredding).
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// Erase every item and label linked to a data subject (crypto-shredding).
    Erase {
        #[command(flatten)]
        project: ProjectArg,
        /// The data subject's key (as imported with --subject-field or set
        /// with `consent set --subject`).
        #[arg(long)]
        subject: String,
        #[arg(long)]
        json: bool,
    },
    /// Data subject, consent and allowed purposes of items (admin).
    #[command(subcommand)]
    Consent(ConsentCommand),
    /// Report an item (unmasked PII, wrong data, disturbing content), list
    /// and resolve reports.
    #[command(subcommand)]
    Incident(IncidentCommand),
    /// Masking and minimisation (admin): review PII proposals, draw
    /// regions and ranges, templates, crops/excerpts, preview what an
    /// annotator will receive.
    #[command(subcommand)]
    Mask(MaskCommand),
    /// Add or list labels from the command line.
    #[command(subcommand)]
    Label(LabelCommand),
    /// Read and verify the audit trail; anomaly flags over it.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The periodic access review of a project (admin, auditor).
    #[command(subcommand)]
    Access(AccessCommand),
    /// Show or change the label schema.
    #[command(subcommand)]
    Schema(SchemaCommand),
    /// Submit an assigned item (all required attributes must be set).
    Submit {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        item: i64,
    },
    /// Skip an assigned item, saying why.
    Skip {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        item: i64,
        #[arg(long)]
        reason: String,
    },
    /// Change a project setting (admin): idle_lock_minutes, watermark,
    /// guidelines (`@FILE` reads the value from a file).
    Settings {
        #[command(flatten)]
        project: ProjectArg,
        key: String,
        value: String,
    },
    /// Measure unlock, open, label commit, blob crypto and audit verify
    /// on this machine (synthetic data in a scratch dir, removed after).
    Bench(BenchArgs),
    /// Verify a sealed package addressed to you (decryption, format,
    /// signature, recipient, every member's hash) or a signed export folder
    /// (signature, every file's hash, nothing added or missing). No project
    /// needed.
    Verify {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Self-tests of the running binary's protections.
    #[command(subcommand, hide = true)]
    Selftest(SelftestCommand),
    /// Packaging helpers: man pages, shell completions, licence texts and
    /// the CycloneDX SBOM (used by packaging/build-deb.sh).
    #[command(subcommand, hide = true)]
    Generate(GenerateCommand),
}

// The options of `sealtag import`. No doc comment: the command's help is the
// variant's, in `Command`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    /// Field (JSONL) or column (CSV) holding the text; default "text".
    #[arg(long)]
    pub text_field: Option<String>,
    /// Field or column holding the data subject's key (for `erase`).
    #[arg(long)]
    pub subject_field: Option<String>,
    /// Field or column holding consent (granted/yes/true, withdrawn/no/false).
    #[arg(long)]
    pub consent_field: Option<String>,
    /// Field or column holding the allowed purposes (comma-separated).
    #[arg(long)]
    pub purposes_field: Option<String>,
    /// Import a file again even when its content is already an item
    /// (by default it is skipped and reported as a duplicate).
    #[arg(long)]
    pub keep_duplicates: bool,
    /// Print the per-file report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Read pre-labels from this file (or dataset folder: yolo, voc); they
    /// match items by hash, name or path and show as predictions. Given
    /// with PATHS, the media are imported first, then the labels.
    #[arg(long, value_name = "FILE_OR_DIR")]
    pub prelabels: Option<PathBuf>,
    /// Format of --prelabels.
    #[arg(long, requires = "prelabels", value_parser = FormatName(FormatList::Prelabels))]
    pub format: Option<String>,
    /// Name of the model or tool the pre-labels come from.
    #[arg(long, requires = "prelabels", default_value = "import")]
    pub source: String,
    /// Add the classes the file defines (and attributes, tools and
    /// keypoints its records use) to the schema first, as a new version.
    #[arg(long, requires = "prelabels")]
    pub create_classes: bool,
    /// A Label Studio labelling config (XML) whose labels and choices are
    /// adopted too (with --create-classes).
    #[arg(long, value_name = "FILE", requires = "create_classes")]
    pub ls_config: Option<PathBuf>,
    /// Files and folders (folders are walked recursively; links are never followed).
    #[arg(required_unless_present = "prelabels")]
    pub paths: Vec<PathBuf>,
}

// The options of `sealtag export`. No doc comment: the command's help is the
// variant's, in `Command`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    /// Dataset format (`--help` says what each one holds).
    #[arg(long, value_parser = FormatName(FormatList::Export))]
    pub format: String,
    /// A new folder (or, with --to, a new .sealpkg file).
    #[arg(long)]
    pub out: PathBuf,
    /// Which items' labels: approved ones, or all.
    #[arg(long, default_value = "approved", value_parser = ChoiceParser::<ExportStatus>::new())]
    pub status: Choice<ExportStatus>,
    /// Also export the media (image metadata stripped).
    #[arg(long)]
    pub media: bool,
    /// Seal the export to these people (member names, fingerprints or
    /// public keys); repeat or comma-separate.
    #[arg(long, value_delimiter = ',')]
    pub to: Vec<String>,
    /// A plain folder without a signed manifest (audited as such).
    #[arg(long)]
    pub unsigned: bool,
    /// Mark exported images with the recipient's fingerprint (a faint
    /// forensic pattern; needs --media and --to).
    #[arg(long)]
    pub watermark: bool,
    /// Only items whose consent covers this purpose (e.g. training).
    #[arg(long)]
    pub purpose: Option<String>,
    #[arg(long)]
    pub json: bool,
}

// The options of `sealtag assign`. No doc comment: the command's help is the
// variant's, in `Command`.
#[derive(Debug, Args)]
pub struct AssignArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    /// Fingerprint or name of the member; repeat (or comma-separate)
    /// to share the items among several.
    #[arg(long, value_delimiter = ',', required = true)]
    pub to: Vec<String>,
    /// With several members: give this many of them each item in the
    /// overlap fraction (for agreement figures).
    #[arg(long, default_value_t = 1)]
    pub overlap: usize,
    /// The fraction of items (0–1) that get `--overlap` annotators.
    #[arg(long, default_value_t = 1.0)]
    pub overlap_fraction: f64,
    /// Item ids, comma separated (default: every item).
    #[arg(long, value_delimiter = ',')]
    pub ids: Vec<i64>,
    /// Only items matching this, e.g. `status=new` or `kind=image`.
    #[arg(long, value_name = "FIELD=VALUE")]
    pub filter: Vec<String>,
    /// At most this many items (the first in id order).
    #[arg(long)]
    pub count: Option<usize>,
    /// What they do with the items.
    #[arg(long, default_value = "annotate", value_parser = ChoiceParser::<AssignPurpose>::new())]
    pub purpose: Choice<AssignPurpose>,
}

// The options of `sealtag bench`. No doc comment: the command's help is the
// variant's, in `Command`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// How many label commits to time.
    #[arg(long, default_value_t = 2000)]
    pub labels: u32,
    /// Size of the synthetic blob for the crypto throughput figures.
    #[arg(long, default_value_t = 64)]
    pub blob_mib: u32,
    /// Also time sealing and opening a work package of this much
    /// synthetic media (0 skips it; needs about three times that on disk).
    #[arg(long, default_value_t = 0, value_name = "MIB")]
    pub package_mib: u32,
    /// Also time a COCO export of this many synthetic annotations (0 skips).
    #[arg(long, default_value_t = 1_000_000, value_name = "N")]
    pub export_annotations: usize,
    /// Items in the big synthetic project (open to a usable queue, RSS; 0 skips).
    #[arg(long, default_value_t = 100_000, value_name = "N")]
    pub items: usize,
    /// Audit rows in the big synthetic project (verify time; 0 skips).
    #[arg(long, default_value_t = 1_000_000, value_name = "N")]
    pub audit_rows: usize,
    /// Small sizes for a quick look (1k items, 10k rows, 10k annotations).
    #[arg(long)]
    pub quick: bool,
    /// Skip the GUI figures (canvas frame time, item switch).
    #[arg(long)]
    pub core_only: bool,
    /// Also time the waveform overview of this audio file (e.g. a long call).
    #[arg(long, value_name = "FILE")]
    pub audio_file: Option<PathBuf>,
    /// Time importing instead: synthetic 1280x720 JPEGs beside a bare
    /// decode of the same files, and Label Studio pre-labels (5 boxes a
    /// task); only these figures are printed.
    #[arg(long)]
    pub import: bool,
    /// Images for `--import`.
    #[arg(long, default_value_t = 2000, value_name = "N")]
    pub import_images: usize,
    /// Pre-label tasks (and items) for `--import`.
    #[arg(long, default_value_t = 50_000, value_name = "N")]
    pub prelabel_tasks: usize,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum PackageCommand {
    /// Seal the items assigned to one person into a work package (admin).
    Work {
        #[command(flatten)]
        project: ProjectArg,
        /// Fingerprint or name of the annotator or reviewer.
        #[arg(long)]
        to: String,
        #[arg(long, value_name = "FILE.sealpkg")]
        out: PathBuf,
        /// After this date (YYYY-MM-DD, until the end of that day UTC) the
        /// laptop refuses labelling and offers to erase itself.
        #[arg(long, conflicts_with = "expires_days")]
        expires: Option<String>,
        /// Expire this many days from now.
        #[arg(long)]
        expires_days: Option<u32>,
        #[arg(long)]
        json: bool,
    },
    /// Seal this laptop bundle's labels, item states and audit segment for
    /// the site (only what changed since the last one, unless --full).
    Results {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long, value_name = "FILE.sealpkg")]
        out: PathBuf,
        /// Everything, not only what changed since the last results package.
        #[arg(long)]
        full: bool,
        #[arg(long)]
        json: bool,
    },
    /// Verify and apply a package: a work package makes (or extends) the
    /// local bundle; a results package is merged into --project.
    Open {
        file: PathBuf,
        /// For results: the site project to merge into. For work: where the
        /// local bundle goes (default: under your home's projects).
        #[arg(long = "project", value_name = "PATH")]
        project: Option<PathBuf>,
        /// For a first work package: the admin's fingerprint as read out to
        /// you; the package is refused if someone else signed it.
        #[arg(long, value_name = "FINGERPRINT")]
        signer: Option<String>,
        /// For results signed by a removed member (a revoked key), refused
        /// otherwise whatever time they claim: accept them anyway, every
        /// item kept as a conflict for review (admin; audited).
        #[arg(long)]
        accept_revoked: bool,
        /// For a first work package without --signer: you compared the
        /// signer's fingerprint (shown when the package is refused) with the
        /// one your site admin read out, and trust it.
        #[arg(long, conflicts_with = "signer")]
        trust_first_use: bool,
        #[arg(long)]
        json: bool,
    },
    /// Show what a package holds — kind, signer, recipients, every item
    /// with every field it carries, each member with size and SHA-256, the
    /// masks and windows applied — without applying anything (recipients
    /// only: the package is sealed to them).
    Inspect {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// The packages made and applied in a project.
    List {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReviewCommand {
    /// Submitted work waiting for your decision.
    Queue {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        json: bool,
    },
    /// Approve one annotator's submitted work on an item.
    Approve(ReviewTarget),
    /// Send it back to the annotator with a comment saying what to fix.
    Reject {
        #[command(flatten)]
        target: ReviewTarget,
        #[arg(long)]
        comment: String,
    },
    /// Approve after your own corrections (your edits are revisions by you).
    Correct(ReviewTarget),
    /// The consensus of several people's labels on an item (majority, IoU ≥
    /// 0.5); --apply adds it as your labels, to correct from.
    Consensus {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        item: i64,
        #[arg(long)]
        apply: bool,
        #[arg(long)]
        json: bool,
    },
    /// Acceptance rate of a person (default: you).
    Acceptance {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        who: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct ReviewTarget {
    #[command(flatten)]
    pub project: ProjectArg,
    #[arg(long)]
    pub item: i64,
    /// Whose work, when several people labelled the item.
    #[arg(long)]
    pub annotator: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum CommentCommand {
    /// Comment on an item, or on one of its labels with --label.
    Add {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        item: i64,
        #[arg(long)]
        label: Option<i64>,
        text: String,
    },
    /// The comments on an item you may read.
    List {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        item: i64,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum GoldCommand {
    /// Make items gold: their current labels become the standard.
    Set {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long, value_delimiter = ',', required = true)]
        ids: Vec<i64>,
    },
    /// Make items ordinary again.
    Unset {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long, value_delimiter = ',', required = true)]
        ids: Vec<i64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum QualityCommand {
    /// Progress, throughput, review outcomes, agreement and gold scores.
    Report {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum PiiCommand {
    /// Scan a TXT, JSONL or CSV file (no project needed), or with
    /// --project every text item of a project; prints each record's
    /// proposed spans with type and char and byte offsets.
    Scan {
        /// The file (kind from its extension: .jsonl, .csv, else text).
        #[arg(required_unless_present = "project")]
        file: Option<PathBuf>,
        /// Scan the project's text items instead.
        #[arg(long = "project", value_name = "PATH", conflicts_with = "file")]
        project: Option<PathBuf>,
        /// JSONL key or CSV column holding the text.
        #[arg(long, default_value = "text")]
        field: String,
        /// Person names to find, one per line (default for a project: its
        /// pii_names setting).
        #[arg(long, value_name = "FILE")]
        names: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct ProjectArg {
    /// Path of the project bundle directory.
    #[arg(long = "project", value_name = "PATH")]
    pub path: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum IdentityCommand {
    /// Create your identity (asks for a passphrase twice on a terminal).
    New {
        #[arg(long)]
        name: String,
    },
    /// Print your public key and fingerprint (no passphrase needed).
    Show {
        #[arg(long)]
        json: bool,
    },
    /// Change your passphrase (the current one, then the new one twice on a
    /// terminal); the file is re-sealed at the current scrypt cost, so giving
    /// the same passphrase again upgrades an older file.
    Passphrase {
        /// Read the new passphrase from this file's first line (or set
        /// SEALTAG_NEW_PASSPHRASE) instead of prompting.
        #[arg(long, value_name = "FILE")]
        new_passphrase_file: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a project bundle; you become its admin.
    Create {
        path: PathBuf,
        #[arg(long)]
        name: String,
    },
    /// Name, id, your role, counts.
    Info {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        json: bool,
    },
    /// Full integrity check of the database (page HMACs included).
    Check {
        #[command(flatten)]
        project: ProjectArg,
    },
    /// Erase a laptop bundle (e.g. after its work package expired): its
    /// blobs are deleted and its key slots destroyed, then the folder goes.
    Erase {
        #[command(flatten)]
        project: ProjectArg,
        /// Confirm: this cannot be undone.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Enrol a person by their public key.
    Add {
        #[command(flatten)]
        project: ProjectArg,
        /// Their public key, as printed by `sealtag identity show`.
        #[arg(long)]
        key: String,
        /// Their role in the project.
        #[arg(long, value_parser = ChoiceParser::<Role>::new())]
        role: Choice<Role>,
        #[arg(long)]
        name: String,
    },
    /// List the project's members: name, role, fingerprint.
    List {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        json: bool,
    },
    /// Remove a member (by fingerprint or name) and re-key the bundle.
    Remove {
        #[command(flatten)]
        project: ProjectArg,
        who: String,
    },
}

// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum LabelCommand {
    /// Add a label in original-image pixels; prints the annotation id.
    /// Give exactly one of --bbox, --polygon, --polyline, --point, --tag,
    /// --segment, --span, --relation.
    Add {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        item: i64,
        /// Class name.
        #[arg(long)]
        class: String,
        /// x,y,w,h
        #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
        bbox: Vec<f64>,
        /// x1,y1,x2,y2,x3,y3,… (at least 3 points)
        #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
        polygon: Vec<f64>,
        /// x1,y1,x2,y2,… (at least 2 points)
        #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
        polyline: Vec<f64>,
        /// x,y
        #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
        point: Vec<f64>,
        /// A whole-item tag of the class (image, audio or document class).
        #[arg(long)]
        tag: bool,
        /// start,end in seconds of an audio item.
        #[arg(long, value_delimiter = ',')]
        segment: Vec<f64>,
        /// What is said in the segment.
        #[arg(long, requires = "segment")]
        transcript: Option<String>,
        /// start,end in characters (Unicode scalar values, end-exclusive) of a text item.
        #[arg(long, value_delimiter = ',')]
        span: Vec<u64>,
        /// from,to: the ids of two labels of the item this relation links.
        #[arg(long, value_delimiter = ',')]
        relation: Vec<i64>,
        /// An attribute, NAME=VALUE (true/false for yes/no attributes); repeatable.
        #[arg(long = "attr", value_name = "NAME=VALUE")]
        attributes: Vec<String>,
        /// Add the same label this many times, printing each id once saved
        /// (crash-safety tests and benchmarks).
        #[arg(long, default_value_t = 1, hide = true)]
        repeat: u32,
    },
    /// List the labels of an item.
    List {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        item: i64,
        #[arg(long)]
        json: bool,
    },
    /// Undo your latest label change (on one item, or anywhere).
    Undo {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        item: Option<i64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// Print the label schema (classes, tools, attributes, skeletons).
    Show {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        json: bool,
    },
    /// Whether text spans and audio segments may overlap.
    Rules {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long, action = clap::ArgAction::Set)]
        overlapping_spans: bool,
        #[arg(long, action = clap::ArgAction::Set)]
        overlapping_segments: bool,
    },
    /// Replace the schema from a JSON file in the `schema show --json` format.
    Set {
        #[command(flatten)]
        project: ProjectArg,
        file: PathBuf,
        /// Apply even if existing labels would be removed.
        #[arg(long)]
        confirm: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Print the audit trail: who did what, when, to which item.
    Log {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        json: bool,
    },
    /// Verify the hash chain and signed heads; names the first broken row.
    /// Rows after the last signed head are reported as an unsigned tail.
    Verify {
        #[command(flatten)]
        project: ProjectArg,
        /// A checkpoint from `audit head --out`: fails unless the trail
        /// still extends it (repeatable).
        #[arg(long = "anchor", value_name = "FILE")]
        anchors: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Sign the current head of the trail and write it as a checkpoint
    /// (JSON) to keep offline, for `audit verify --anchor`.
    Head {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Flag unusual patterns in the trail (view rates, failed unlocks,
    /// off-hours exports, items viewed but never labelled, large exports,
    /// role changes, a clock going back), each with its audit rows.
    /// Flags are findings: the exit code stays 0.
    Anomalies {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccessCommand {
    /// Everyone ever enrolled: role, key fingerprint, when added and by
    /// whom, last activity, packages sent to and received from them.
    Review {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SelftestCommand {
    /// Try a TCP connect to 127.0.0.1 and a Unix socket pair; prints JSON.
    Network,
}

#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// Man pages from this grammar: sealtag.1 and one page per subcommand
    /// (sealtag-export.1, sealtag-identity-new.1, …).
    Man {
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Shell completion scripts (default: bash, zsh and fish).
    Completions {
        #[arg(value_enum)]
        shells: Vec<clap_complete::Shell>,
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// CycloneDX 1.5 JSON SBOM of the packages the binary is built from.
    Sbom {
        /// Output of `cargo metadata --format-version 1 --locked
        /// --filter-platform TRIPLE` for the build.
        #[arg(long, value_name = "FILE")]
        metadata: PathBuf,
        /// Cargo.lock, whose checksums become the components' SHA-256
        /// hashes (default: next to the root package's Cargo.toml).
        #[arg(long, value_name = "FILE")]
        lock: Option<PathBuf>,
        /// Record this file's SHA-256 (the built binary) on the root
        /// component.
        #[arg(long, value_name = "FILE")]
        binary: Option<PathBuf>,
        /// Write here instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Licence texts of every package the binary is built from, one folder
    /// per package, and an INDEX.
    Licenses {
        /// Output of `cargo metadata` as for `sbom`.
        #[arg(long, value_name = "FILE")]
        metadata: PathBuf,
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum MaskCommand {
    /// Run the PII detector over text items and audio transcripts and
    /// record what it finds as proposals to accept or reject.
    Propose {
        #[command(flatten)]
        project: ProjectArg,
        /// Only these items (comma-separated ids).
        #[arg(long, value_delimiter = ',')]
        items: Vec<i64>,
        #[arg(long)]
        json: bool,
    },
    /// List masking decisions (of one item, or the whole project).
    List {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        item: Option<i64>,
        /// Only this status.
        #[arg(long, value_parser = ChoiceParser::<MaskStatus>::new())]
        status: Option<Choice<MaskStatus>>,
        #[arg(long)]
        json: bool,
    },
    /// Accept proposals: by id, or every pending one of a PII type.
    Accept(MaskDecision),
    /// Reject proposals or remove masks: by id, or every pending one of a type.
    Reject(MaskDecision),
    /// Add a mask by hand: a text span, an image rectangle or polygon, or
    /// an audio time range.
    Add {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        item: i64,
        /// Characters START..END of a text item.
        #[arg(long, value_name = "START..END", group = "shape")]
        chars: Option<String>,
        /// Image rectangle in pixels.
        #[arg(long, value_name = "X,Y,W,H", group = "shape")]
        rect: Option<String>,
        /// Image polygon in pixels.
        #[arg(long, value_name = "X,Y;X,Y;X,Y...", group = "shape")]
        polygon: Option<String>,
        /// Seconds START..END of a recording.
        #[arg(long, value_name = "START..END", group = "shape")]
        secs: Option<String>,
        /// PII type of a text span (email, phone, credit_card, iban,
        /// ip_address, date_of_birth, national_id, person, address, other).
        #[arg(long = "type", default_value = "other")]
        pii_type: String,
        /// fill, blur or pixelate (regions); mute or tone (audio). Default:
        /// the project's mask_region_style / mask_audio_style.
        #[arg(long)]
        style: Option<String>,
    },
    /// Turn labels of some classes (e.g. a detector's faces and plates)
    /// into accepted mask regions.
    FromLabels {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long, value_delimiter = ',', required = true)]
        classes: Vec<String>,
        #[arg(long)]
        style: Option<String>,
        #[arg(long, value_delimiter = ',')]
        items: Vec<i64>,
    },
    /// Region templates (e.g. an ID-card layout) applied to many images.
    #[command(subcommand)]
    Template(TemplateCommand),
    /// Send only part of an item: a crop, an excerpt or a time range.
    Window {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        item: i64,
        #[arg(long, value_name = "X,Y,W,H", group = "window")]
        rect: Option<String>,
        #[arg(long, value_name = "START..END", group = "window")]
        chars: Option<String>,
        #[arg(long, value_name = "START..END", group = "window")]
        secs: Option<String>,
        /// Around the labels of these classes, widened by --margin.
        #[arg(long, value_delimiter = ',', group = "window")]
        from_labels: Vec<String>,
        #[arg(long, default_value_t = 0.0)]
        margin: f64,
        /// Send the whole item again.
        #[arg(long, group = "window")]
        clear: bool,
    },
    /// What the item's privacy state is: version, window, masks, packages.
    Show {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        item: i64,
        #[arg(long)]
        json: bool,
    },
    /// Make the derivative an annotator would receive, in memory, and
    /// describe it (a text's masked excerpt is printed; nothing is written).
    Preview {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        item: i64,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct MaskDecision {
    #[command(flatten)]
    pub project: ProjectArg,
    /// Mask ids.
    pub ids: Vec<i64>,
    /// Every pending proposal of this PII type instead.
    #[arg(long = "type", conflicts_with = "ids")]
    pub pii_type: Option<String>,
    /// With --type: only this item's.
    #[arg(long)]
    pub item: Option<i64>,
}

#[derive(Debug, Subcommand)]
pub enum TemplateCommand {
    /// Save an image's accepted regions as a template.
    Save {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        name: String,
        #[arg(long)]
        from_item: i64,
    },
    /// Apply a template to images (scaled to each one's size).
    Apply {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        name: String,
        #[arg(long, value_delimiter = ',', required_unless_present = "all_images")]
        items: Vec<i64>,
        /// Every image of the project.
        #[arg(long)]
        all_images: bool,
    },
    /// List the saved templates and their regions.
    List {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Crypto-shred every item older than `retention_days`.
    Purge {
        #[command(flatten)]
        project: ProjectArg,
        /// Only list what would go.
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConsentCommand {
    /// Set data subject, consent and/or purposes of items.
    Set {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long, value_delimiter = ',', required = true)]
        items: Vec<i64>,
        /// The data subject's key.
        #[arg(long, conflicts_with = "clear_subject")]
        subject: Option<String>,
        #[arg(long)]
        clear_subject: bool,
        /// What the data subject agreed to.
        #[arg(long, value_parser = ChoiceParser::<Consent>::new())]
        consent: Option<Choice<Consent>>,
        /// Allowed purposes, comma-separated (empty string: none).
        #[arg(long)]
        purposes: Option<String>,
    },
    /// An item's data subject (whether set), consent and purposes.
    Show {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        item: i64,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// Report an item: it leaves your queue at once.
    Flag {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        item: i64,
        /// What is wrong with it.
        #[arg(long, value_parser = ChoiceParser::<IncidentKind>::new())]
        kind: Choice<IncidentKind>,
        #[arg(long)]
        reason: String,
    },
    /// Incidents (admins: all; others: their own).
    List {
        #[command(flatten)]
        project: ProjectArg,
        /// Only open ones.
        #[arg(long)]
        open: bool,
        #[arg(long)]
        json: bool,
    },
    /// Decide an incident (admin): remask, remove (erase the item) or release.
    Resolve {
        #[command(flatten)]
        project: ProjectArg,
        id: i64,
        /// What becomes of the item.
        #[arg(long = "as", value_parser = ChoiceParser::<Resolution>::new())]
        resolution: Choice<Resolution>,
        #[arg(long)]
        note: Option<String>,
    },
}
