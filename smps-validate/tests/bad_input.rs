//! Unusable input gives one clear error: never a panic, hang, stack overflow or runaway memory.

use smps_validate::{Error, Format, Location, Source, Validator};

use crate::validator;

#[test]
fn empty_input_and_comment_only_input_are_empty() {
    let v = validator();
    for text in ["", "   \n\t\n", "# just a comment\n", "---\n", "\u{feff}"] {
        let e = v.report_str(text).unwrap_err();
        assert!(matches!(e, Error::Empty), "{text:?}: {e:?}");
        assert!(!v.is_valid_str(text));
    }
}

#[test]
fn non_utf8_and_binary_bytes_are_rejected_with_a_position() {
    let v = validator();
    match v
        .report(&Source::bytes(&b"a: 1\nb: caf\xe9\n"[..]))
        .unwrap_err()
    {
        Error::NotUtf8 { offset, location } => {
            assert_eq!(offset, 11);
            assert_eq!(location, Location::new(2, 7));
        }
        other => panic!("unexpected {other:?}"),
    }
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    assert!(v.report(&Source::bytes(&png[..])).is_err());
    let e = v.report(&Source::bytes(&b"a:\0 1\n"[..])).unwrap_err();
    assert!(matches!(e, Error::NotText { .. }), "{e:?}");
}

#[test]
fn yaml_syntax_errors_have_line_and_column() {
    let e = validator()
        .report_str("latencies_ms:\n  p50: 1\n p90: [2\n")
        .unwrap_err();
    match e {
        Error::Syntax {
            format: Format::Yaml,
            location,
            ..
        } => assert_eq!(location.line(), 3),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn json_syntax_errors_have_line_and_column() {
    let src = Source::text("{\n  \"latenciesMs\": {\"p50\": 1,}\n}").format(Format::Json);
    match validator().report(&src).unwrap_err() {
        Error::Syntax {
            format: Format::Json,
            location,
            ..
        } => assert_eq!(location, Location::new(2, 28)),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn alias_bombs_stop_at_the_node_limit() {
    let mut text = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["b", "c", "d", "e", "f", "g", "h", "i"];
    let mut prev = "a";
    for n in names {
        text.push_str(&format!(
            "{n}: &{n} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        ));
        prev = n;
    }
    let e = validator().report_str(&text).unwrap_err();
    assert!(matches!(e, Error::TooManyNodes { .. }), "{e:?}");
}

#[test]
fn two_hundred_thousand_levels_of_nesting_are_rejected() {
    let v = validator();
    let deep_flow = "[".repeat(200_000) + &"]".repeat(200_000);
    assert!(matches!(
        v.report_str(&deep_flow),
        Err(Error::TooDeep { .. })
    ));
    let deep_json = Source::text(deep_flow.as_str()).format(Format::Json);
    assert!(matches!(v.report(&deep_json), Err(Error::TooDeep { .. })));
    let deep_map = "{\"a\":".repeat(200_000) + "1" + &"}".repeat(200_000);
    assert!(matches!(
        v.report_str(&deep_map),
        Err(Error::TooDeep { .. })
    ));
    let mut block = String::new();
    for i in 0..200_000 {
        block.push_str(&" ".repeat(i.min(300)));
        block.push_str("- \n");
    }
    assert!(v.report_str(&block).is_err());
    let dashes = "- ".repeat(200_000) + "x\n";
    assert!(matches!(v.report_str(&dashes), Err(Error::TooDeep { .. })));
}

#[test]
fn inputs_over_the_size_limit_are_rejected_before_parsing() {
    let v = Validator::builder().max_input_bytes(1024).build().unwrap();
    let big = format!("latencies_ms: {{p50: 1}}\n# {}\n", "x".repeat(2000));
    match v.report_str(&big).unwrap_err() {
        Error::TooLarge { size, limit } => {
            assert_eq!(limit, 1024);
            assert!(size > 1024);
        }
        other => panic!("unexpected {other:?}"),
    }
    let dir = std::env::temp_dir().join(format!("smps-validate-big-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("big.yaml");
    std::fs::write(&path, &big).unwrap();
    let e = v.report(&Source::path(&path)).unwrap_err();
    assert!(
        matches!(
            e,
            Error::TooLarge {
                size,
                limit: 1024
            } if size == big.len() as u64
        ),
        "{e:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_files_name_the_path() {
    let e = validator()
        .report(&Source::path("/definitely/not/here.yaml"))
        .unwrap_err();
    assert!(e.to_string().contains("/definitely/not/here.yaml"), "{e}");
    assert!(std::error::Error::source(&e).is_some());
}

#[test]
fn a_huge_but_flat_document_is_handled() {
    let mut text = String::from("latencies_ms: {p50: 1}\nlabels:\n");
    for i in 0..100_000 {
        text.push_str(&format!("  k{i}: v\n"));
    }
    let r = validator().report_str(&text).unwrap();
    assert!(r.is_valid());
}
