//! Bounded reading of suite and kuttl files: a file larger than the limit is refused from its
//! metadata, and anything else (a FIFO, a device) is read up to the limit plus one byte, so a
//! path such as `/dev/zero` costs no more memory than the limit.

use std::fmt;
use std::io::Read as _;
use std::path::Path;

/// The default limit on one suite or kuttl file, in bytes (64 MiB).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// How large a file that exceeded the limit was found to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputSize {
    /// The real size of a regular file, from its metadata.
    Exactly(u64),
    /// A stream (a FIFO, a device) that held more than this many bytes; it was not read
    /// further.
    MoreThan(u64),
}

impl fmt::Display for InputSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputSize::Exactly(n) => write!(f, "{n} bytes"),
            InputSize::MoreThan(n) => write!(f, "more than {n} bytes"),
        }
    }
}

/// Why [`read_text`] failed; each caller maps it onto its own public error.
#[derive(Debug)]
pub(crate) enum ReadError {
    Io(std::io::Error),
    TooLarge { size: InputSize, limit: u64 },
    NotUtf8 { line: usize, column: usize },
}

/// Reads `path` as UTF-8 text of at most `limit` bytes.
pub(crate) fn read_text(path: &Path, limit: u64) -> Result<String, ReadError> {
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    let meta = file.metadata().map_err(ReadError::Io)?;
    if meta.is_file() && meta.len() > limit {
        return Err(ReadError::TooLarge {
            size: InputSize::Exactly(meta.len()),
            limit,
        });
    }
    let mut buf = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(ReadError::Io)?;
    if buf.len() as u64 > limit {
        return Err(ReadError::TooLarge {
            size: InputSize::MoreThan(limit),
            limit,
        });
    }
    String::from_utf8(buf).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let valid = std::str::from_utf8(valid).unwrap_or_default();
        let line_start = valid.rfind('\n').map_or(0, |i| i + 1);
        ReadError::NotUtf8 {
            line: valid.matches('\n').count() + 1,
            column: valid[line_start..].chars().count() + 1,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("smi-assert-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn a_file_within_the_limit_is_read_whole() {
        let p = scratch("ok.yaml", b"name: x\n");
        assert_eq!(read_text(&p, 8).unwrap(), "name: x\n");
    }

    #[test]
    fn a_file_over_the_limit_reports_its_real_size() {
        let p = scratch("big.yaml", &[b'#'; 50]);
        assert!(matches!(
            read_text(&p, 49),
            Err(ReadError::TooLarge {
                size: InputSize::Exactly(50),
                limit: 49
            })
        ));
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn an_endless_device_is_read_only_up_to_the_limit() {
        assert!(matches!(
            read_text(Path::new("/dev/zero"), 4096),
            Err(ReadError::TooLarge {
                size: InputSize::MoreThan(4096),
                limit: 4096
            })
        ));
    }

    #[test]
    fn invalid_utf8_gives_the_line_and_column_of_the_first_bad_byte() {
        let p = scratch("bad.yaml", b"a: 1\nbb: \xff\n");
        assert!(matches!(
            read_text(&p, 100),
            Err(ReadError::NotUtf8 { line: 2, column: 5 })
        ));
    }
}
