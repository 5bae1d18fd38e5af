//! Helpers shared by the integration tests that drive the example programs as a user would.
//!
//! Each test file compiles this module on its own and uses only some of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The built example program `name`, with nothing set on it.
///
/// The binary is the one `cargo test` builds for the example (examples are compiled before
/// tests run): target/<profile>/deps/<test>-<hash> → target/<profile>/examples/<name>.
pub(crate) fn example(name: &str) -> Command {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is not built; run through `cargo test`",
        bin.display()
    );
    Command::new(bin)
}

/// The built `smps` program with `CI=1` (no progress line).
pub(crate) fn smps() -> Command {
    let mut cmd = example("smps");
    cmd.env("CI", "1");
    cmd
}

/// [`smps`] with its standard output and error piped, for `spawn` and [`wait_within`].
pub(crate) fn smps_piped() -> Command {
    let mut cmd = smps();
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd
}

/// A path `name` in this process's scratch directory for the test `test`
/// (`<temp>/smps-<test>-test-<pid>`, created if need be).
pub(crate) fn scratch(test: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("smps-{test}-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Waits for `child` to end, killing it and failing the test after `secs` seconds.
pub(crate) fn wait_within(mut child: Child, secs: u64) -> Output {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("smps did not end within {secs} s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// Output bytes as text (invalid UTF-8 replaced).
pub(crate) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
