//! Review and quality through the core: the assignment state machine
//! (illegal transitions refused), and two annotators and a reviewer working
//! through packages — overlap, gold items hidden in packages and scored on
//! merge, approve, reject with a comment that travels back, correction,
//! acceptance rates and the quality report.

use sealtag::controller::{CoreError, Decision, Session, open_work_package};
use sealtag::crypto::UnlockedIdentity;
use sealtag::home::Home;
use sealtag::import::ImportOptions;
use sealtag::model::{
    AnnotationDraft, AssignmentState, BBox, Geometry, ItemStatus, LabelChange, Role,
};
use std::path::{Path, PathBuf};

const IMAGE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/import/astronaut.jpg"
);
const OTHER_IMAGE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/import/camera_gray.png"
);

fn bbox(x: f64) -> Geometry {
    Geometry::BBox(BBox {
        x,
        y: 20.0,
        w: 60.0,
        h: 50.0,
    })
}

fn progress() -> impl FnMut(sealtag::package::Progress) -> bool {
    |_| true
}

#[test]
fn the_state_machine_allows_only_the_designed_transitions() {
    let states = AssignmentState::ALL;
    assert_eq!(states.len(), 6, "a new state needs its transitions decided");
    let allowed: Vec<(&str, &str)> = states
        .iter()
        .flat_map(|a| states.iter().map(move |b| (*a, *b)))
        .filter(|(a, b)| a.may_become(*b))
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(
        allowed,
        vec![
            ("assigned", "in_progress"),
            ("assigned", "submitted"),
            ("assigned", "skipped"),
            ("in_progress", "submitted"),
            ("in_progress", "skipped"),
            ("submitted", "approved"),
            ("submitted", "rejected"),
            ("rejected", "in_progress"),
            ("rejected", "submitted"),
            ("rejected", "skipped"),
        ]
    );
}

struct Team {
    dir: tempfile::TempDir,
    site: PathBuf,
    admin: UnlockedIdentity,
    reviewer: UnlockedIdentity,
    anns: [(UnlockedIdentity, Home); 2],
    items: [i64; 3],
}

fn team() -> Team {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site.sealtag");
    let admin = UnlockedIdentity::generate("Ada");
    let reviewer = UnlockedIdentity::generate("Rita");
    let a1 = UnlockedIdentity::generate("Ann");
    let a2 = UnlockedIdentity::generate("Bob");
    let mut s = Session::create_project(&site, "Team", admin.clone()).unwrap();
    let opts = ImportOptions::default();
    let mut import = |name: &str, path: &str| {
        s.import_bytes(name, std::fs::read(path).unwrap(), &opts)
            .unwrap()
            .item_ids[0]
    };
    let items = [
        import("one.jpg", IMAGE),
        import("two.png", OTHER_IMAGE),
        import("gold.jpg", IMAGE),
    ];
    for (id, role, name) in [
        (&a1, Role::Annotator, "Ann"),
        (&a2, Role::Annotator, "Bob"),
        (&reviewer, Role::Reviewer, "Rita"),
    ] {
        s.add_user(&id.public().to_key_string(), role, name)
            .unwrap();
    }
    s.close().unwrap();
    let homes = [
        Home::new(dir.path().join("ann")),
        Home::new(dir.path().join("bob")),
    ];
    let [h1, h2] = homes;
    Team {
        site,
        admin,
        reviewer,
        anns: [(a1, h1), (a2, h2)],
        items,
        dir,
    }
}

impl Team {
    fn open(&self, who: &UnlockedIdentity) -> Session {
        Session::open(&self.site, who.clone(), None).unwrap()
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    /// Sends person `i` their work; returns their laptop session.
    fn work_to(&self, i: usize, name: &str) -> Session {
        let file = self.path(&format!("{name}.sealpkg"));
        self.open(&self.admin)
            .make_work_package(name, &file, &mut progress())
            .unwrap();
        let (id, home) = &self.anns[i];
        let opened = open_work_package(
            &file,
            id,
            home,
            None,
            sealtag::controller::FirstSigner::TrustFirstUse,
            &mut progress(),
        )
        .unwrap();
        Session::open(&opened.bundle, id.clone(), None).unwrap()
    }
    fn results_from(&self, laptop: &mut Session, name: &str) -> sealtag::controller::MergeReport {
        let file = self.path(&format!("{name}.sealpkg"));
        laptop
            .make_results_package(&file, false, &mut progress())
            .unwrap();
        self.open(&self.admin)
            .open_results_package(&file, &mut progress())
            .unwrap()
    }
}

fn draw(s: &mut Session, item: i64, x: f64) -> i64 {
    let class = s.classes().unwrap()[0].id;
    s.apply_label(LabelChange::Create {
        item_id: item,
        draft: AnnotationDraft::new(class, bbox(x)),
    })
    .unwrap()
    .annotation_id
}

#[test]
fn two_annotators_and_a_reviewer_through_packages() {
    let t = team();
    let [one, two, gold] = t.items;
    {
        let mut admin = t.open(&t.admin);
        // The gold item carries the admin's standard: a box at x = 10.
        draw(&mut admin, gold, 10.0);
        admin.set_gold(gold, true).unwrap();
        // Both annotators get items one and two (full overlap), Ann the gold one.
        let spread = admin
            .assign_spread(
                &[one, two],
                &["Ann".into(), "Bob".into()],
                "annotate",
                2,
                1.0,
            )
            .unwrap();
        assert_eq!(spread.overlapped, vec![one, two]);
        admin.assign(&[gold], "Ann", "gold").unwrap();
        admin.assign(&[one, two, gold], "Rita", "review").unwrap();
        admin.set_project_setting("quality_gate", "0.9").unwrap();
    }

    // Ann: the gold item arrives like any other, without its labels.
    let mut ann = t.work_to(0, "Ann");
    let ids: Vec<i64> = ann.items().unwrap().iter().map(|i| i.id).collect();
    assert_eq!(ids, vec![one, two, gold]);
    assert!(
        ann.annotations(gold).unwrap().is_empty(),
        "gold labels stay at the site"
    );
    draw(&mut ann, one, 10.0);
    draw(&mut ann, two, 10.0);
    draw(&mut ann, gold, 200.0); // far from the standard
    for item in [one, two, gold] {
        ann.submit(item).unwrap();
    }
    // Submitted work is frozen for the annotator.
    let frozen = ann.apply_label(LabelChange::Create {
        item_id: one,
        draft: AnnotationDraft::new(ann.classes().unwrap()[0].id, bbox(1.0)),
    });
    assert!(matches!(frozen, Err(CoreError::Invalid(m)) if m.contains("waits for review")));
    let merged = t.results_from(&mut ann, "ann-r1");
    assert_eq!(merged.gold_scores, vec![(gold, 0.0)]);

    // Bob never receives Ann's labels on the shared items.
    let mut bob = t.work_to(1, "Bob");
    assert!(bob.annotations(one).unwrap().is_empty());
    draw(&mut bob, one, 12.0);
    draw(&mut bob, two, 300.0);
    bob.submit(one).unwrap();
    bob.submit(two).unwrap();
    t.results_from(&mut bob, "bob-r1");

    // The reviewer's queue: five pieces of submitted work.
    let mut rita = t.open(&t.reviewer);
    let queue = rita.review_queue().unwrap();
    assert_eq!(queue.len(), 5);
    // Approving work that is not submitted, or rejecting without a
    // comment, is refused.
    assert!(
        rita.review(one, None, Decision::Approve).is_err(),
        "two people: say whose"
    );
    let no_comment = rita.review(
        two,
        Some("Bob"),
        Decision::Reject {
            comment: "  ".into(),
        },
    );
    assert!(matches!(no_comment, Err(CoreError::Invalid(_))));
    rita.review(one, Some("Ann"), Decision::Approve).unwrap();
    rita.review(one, Some("Bob"), Decision::Approve).unwrap();
    rita.review(
        two,
        Some("Bob"),
        Decision::Reject {
            comment: "The box misses the object".into(),
        },
    )
    .unwrap();
    let again = rita.review(one, Some("Ann"), Decision::Approve);
    assert!(matches!(again, Err(CoreError::Invalid(m)) if m.contains("approved")));
    // A reviewer corrects Ann's box on item two, then approves it.
    let ann_box = rita
        .annotations(two)
        .unwrap()
        .into_iter()
        .find(|a| a.geometry == bbox(10.0))
        .unwrap();
    rita.apply_label(LabelChange::Update {
        annotation_id: ann_box.id,
        draft: AnnotationDraft::new(ann_box.class_id, bbox(15.0)),
    })
    .unwrap();
    rita.review(two, Some("Ann"), Decision::Correct).unwrap();
    drop(rita);

    // Bob gets item two back with the comment, fixes it, resubmits.
    let bob_pid = bob.project_id().to_string();
    drop(bob);
    let mut bob = t.work_to(1, "Bob");
    assert_eq!(
        bob.project_id(),
        bob_pid,
        "the same laptop bundle, extended"
    );
    let status = bob
        .items()
        .unwrap()
        .into_iter()
        .find(|i| i.id == two)
        .unwrap()
        .status;
    assert_eq!(status, ItemStatus::Rejected);
    let comments = bob.comments(two).unwrap();
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].body, "The box misses the object");
    assert_eq!(comments[0].author_name, "Rita");
    let acceptance = bob.acceptance(None).unwrap();
    assert_eq!((acceptance.approved, acceptance.rejected), (1, 1));
    let bob_box = bob.annotations(two).unwrap()[0].id;
    let class = bob.classes().unwrap()[0].id;
    bob.apply_label(LabelChange::Update {
        annotation_id: bob_box,
        draft: AnnotationDraft::new(class, bbox(11.0)),
    })
    .unwrap();
    bob.comment(two, None, "Moved it onto the object").unwrap();
    bob.submit(two).unwrap();
    let merged = t.results_from(&mut bob, "bob-r2");
    assert!(merged.conflicts.is_empty(), "{:?}", merged.conflicts);
    assert_eq!(merged.comments_added, 1);

    let mut rita = t.open(&t.reviewer);
    let thread = rita.comments(two).unwrap();
    assert_eq!(thread.len(), 2, "the rejection and Bob's reply");
    rita.review(two, Some("Bob"), Decision::Approve).unwrap();
    drop(rita);

    // Ann's corrected label reaches her laptop with the reviewer's revision.
    let mut ann = t.work_to(0, "Ann");
    let mine = ann.annotations(two).unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].geometry, bbox(15.0));

    let mut admin = t.open(&t.admin);
    // The consensus of Ann's box (x 10) and Bob's (x 12) is their mean.
    let consensus = admin.consensus(one).unwrap();
    assert_eq!(consensus.len(), 1);
    assert_eq!(consensus[0].geometry, bbox(11.0));
    let report = admin.quality_report().unwrap();
    // Progress counts every item once, by status, as the item list has them.
    let items = admin.items().unwrap();
    assert_eq!(report.items, items.len());
    for (status, n) in &report.progress {
        let listed = items.iter().filter(|i| i.status.as_str() == status).count();
        assert_eq!(*n, listed, "{status}");
    }
    assert_eq!(
        report.progress.iter().map(|(_, n)| n).sum::<usize>(),
        items.len(),
        "{:?}",
        report.progress
    );
    assert!(report.progress.iter().filter(|(_, n)| *n > 0).count() >= 2);
    assert_eq!(report.overlap_items, 2);
    assert_eq!(report.pairs.len(), 1);
    let pair = &report.pairs[0];
    assert_eq!(pair.items, 2);
    // Item one: boxes at x 10 and 12 overlap (IoU > 0.5); item two: Bob's
    // corrected box at 11 against Ann's (reviewer-corrected) 15.
    assert_eq!(pair.shape_f1, Some(1.0));
    let ann_fig = report.people.iter().find(|p| p.name == "Ann").unwrap();
    assert_eq!(ann_fig.gold_items, 1);
    assert_eq!(ann_fig.gold_mean, Some(0.0));
    assert!(ann_fig.below_gate);
    // Only Ann worked on the gold item, and she is below the gate.
    assert_eq!(report.held_items, vec![gold]);
    assert_eq!(ann_fig.acceptance, Some(1.0));
    let bob_fig = report.people.iter().find(|p| p.name == "Bob").unwrap();
    assert_eq!(bob_fig.acceptance, Some(2.0 / 3.0));
    assert_eq!(report.rejection_reasons.len(), 1);
    // Throughput: revisions per person and day, attributed by fingerprint.
    let today = sealtag::model::now_ms() / 86_400_000 * 86_400_000;
    let ann_fpr = t.anns[0].0.public().fingerprint();
    assert!(
        report
            .throughput
            .iter()
            .any(|(day, who, n)| *day == today && *who == ann_fpr && *n >= 3),
        "{:?}",
        report.throughput
    );
    assert!(admin.verify_audit().unwrap().ok());
    let reviews = admin
        .audit_log()
        .unwrap()
        .into_iter()
        .filter(|r| r.action.starts_with("review."))
        .count();
    assert_eq!(reviews, 5);
    let _ = ann.close();
    let _ = Path::new("");
}
