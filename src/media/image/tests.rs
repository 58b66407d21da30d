use super::*;

fn fixture(rel: &str) -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");
    std::fs::read(format!("{path}{rel}")).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn a_bomb_is_refused_from_its_header_with_its_size() {
    let bomb = fixture("bad/bomb_100000x100000.png");
    let err = read_header(&bomb, ImageFormat::Png, &ImageLimits::default()).expect_err("bomb");
    assert!(
        matches!(
            err,
            ImageDecodeError::TooManyPixels {
                width: 100_000,
                height: 100_000,
                pixels: 10_000_000_000,
                limit: DEFAULT_MAX_IMAGE_PIXELS,
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "image is 100000 x 100000 px (10000000000 px), over the limit of 64000000 px"
    );
}

#[test]
fn the_pixel_limit_applies_to_a_small_image_too() {
    let jpeg = fixture("import/astronaut.jpg"); // 512 x 512
    let limits = ImageLimits {
        max_pixels: 512 * 512 - 1,
        ..ImageLimits::default()
    };
    assert!(matches!(
        decode(&jpeg, ImageFormat::Jpeg, &limits),
        Err(ImageDecodeError::TooManyPixels {
            pixels: 262_144,
            limit: 262_143,
            ..
        })
    ));
    let limits = ImageLimits {
        max_pixels: 512 * 512,
        ..limits
    };
    let image = decode(&jpeg, ImageFormat::Jpeg, &limits).expect("at the limit");
    assert_eq!((image.width(), image.height()), (512, 512));
}

#[test]
fn the_side_limit_applies_under_the_pixel_limit() {
    let jpeg = fixture("import/astronaut.jpg");
    let limits = ImageLimits {
        max_side: Some(500),
        ..ImageLimits::default()
    };
    let err = decode(&jpeg, ImageFormat::Jpeg, &limits).expect_err("side");
    assert!(
        matches!(
            err,
            ImageDecodeError::SideTooLong {
                width: 512,
                height: 512,
                limit: 500
            }
        ),
        "{err:?}"
    );
    // Without a side limit only the pixel count bounds it.
    let limits = ImageLimits {
        max_side: None,
        ..limits
    };
    let header = read_header(&jpeg, ImageFormat::Jpeg, &limits).expect("no side limit");
    assert_eq!((header.width, header.height), (512, 512));
}

#[test]
fn the_decode_runs_under_the_allocation_budget() {
    let png = fixture("import/camera_gray.png"); // 512 x 512 grey: 256 KiB decoded
    let tight = ImageLimits {
        max_alloc: 64 * 1024,
        ..ImageLimits::default()
    };
    let err = decode(&png, ImageFormat::Png, &tight).expect_err("over budget");
    assert!(
        matches!(
            &err,
            ImageDecodeError::Decoder(image::ImageError::Limits(_))
        ),
        "{err:?}"
    );
    // A budget per pixel lifts it for an image of that size.
    let per_pixel = ImageLimits {
        alloc_per_pixel: 8,
        ..tight
    };
    let image = decode(&png, ImageFormat::Png, &per_pixel).expect("within 8 bytes per pixel");
    assert_eq!((image.width(), image.height()), (512, 512));
}

#[test]
fn format_names_are_the_stored_ones() {
    assert_eq!(format_named("jpeg"), Some(("jpeg", ImageFormat::Jpeg)));
    assert_eq!(format_named("bmp"), Some(("bmp", ImageFormat::Bmp)));
    assert_eq!(format_named("jpg"), None);
    assert_eq!(format_named("wav"), None);
}
