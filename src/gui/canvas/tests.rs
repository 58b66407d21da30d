//! Unit tests of `gui::canvas` (kept beside it so the module itself stays readable).

use super::*;

#[test]
fn view_round_trips_coordinates() {
    let view = View::fit(
        Rect::from_min_size(pos2(10.0, 20.0), Vec2::new(400.0, 300.0)),
        800,
        600,
    );
    assert!((view.scale - 0.5).abs() < 1e-6);
    let (x, y) = view.to_image(view.to_screen(123.0, 456.0));
    assert!((x - 123.0).abs() < 1e-3 && (y - 456.0).abs() < 1e-3);
}

#[test]
fn polygon_hit_test_handles_concave_shapes() {
    // An L shape: the notch at (7, 7) is outside.
    let l = [
        [0.0, 0.0],
        [10.0, 0.0],
        [10.0, 4.0],
        [4.0, 4.0],
        [4.0, 10.0],
        [0.0, 10.0],
    ];
    assert!(point_in_polygon((2.0, 8.0), &l));
    assert!(point_in_polygon((8.0, 2.0), &l));
    assert!(!point_in_polygon((7.0, 7.0), &l));
    assert!(!point_in_polygon((11.0, 1.0), &l));
}

#[test]
fn segment_distance() {
    let d = dist_to_segment(pos2(5.0, 3.0), pos2(0.0, 0.0), pos2(10.0, 0.0));
    assert!((d - 3.0).abs() < 1e-6);
    assert!((dist_to_segment(pos2(-4.0, 3.0), pos2(0.0, 0.0), pos2(10.0, 0.0)) - 5.0).abs() < 1e-6);
}

#[test]
fn finishing_needs_enough_points() {
    let mut s = CanvasState {
        drawing: Some((Tool::Polygon, vec![[0.0, 0.0], [1.0, 0.0]])),
        ..Default::default()
    };
    assert!(matches!(s.finish_shape(), Some(CanvasAction::Message(_))));
    s.drawing.as_mut().unwrap().1.push([1.0, 1.0]);
    assert!(matches!(
        s.finish_shape(),
        Some(CanvasAction::Create(Geometry::Polygon { .. }))
    ));
    assert!(!s.is_drawing());
}
