//! The operating system's limits a run must fit in: file descriptors, checked before a run
//! starts, and recognised when a socket cannot be opened.

use std::io;

/// File descriptors kept in reserve beyond one per connection: the runtime's own (epoll,
/// eventfd, timers), standard streams, DNS lookups and the embedding application's files.
pub(crate) const RESERVED_DESCRIPTORS: u64 = 64;

/// The process's soft limit on open file descriptors, if the platform has one.
pub(crate) fn descriptor_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        rustix::process::getrlimit(rustix::process::Resource::Nofile).current
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Whether an I/O error says the process or the system has no file descriptor left.
pub(crate) fn is_out_of_descriptors(e: &io::Error) -> bool {
    #[cfg(unix)]
    {
        use rustix::io::Errno;
        e.raw_os_error()
            .is_some_and(|c| c == Errno::MFILE.raw_os_error() || c == Errno::NFILE.raw_os_error())
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

/// Checks that `connections` fit in the descriptor limit.
pub(crate) fn check_descriptors(connections: u64) -> crate::Result<()> {
    let needed = connections.saturating_add(RESERVED_DESCRIPTORS);
    match descriptor_limit() {
        Some(limit) if needed > limit => Err(crate::Error::FileDescriptors {
            connections,
            needed,
            limit,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emfile_and_enfile_are_out_of_descriptors_and_other_errors_are_not() {
        #[cfg(unix)]
        {
            for code in [rustix::io::Errno::MFILE, rustix::io::Errno::NFILE] {
                assert!(is_out_of_descriptors(&io::Error::from_raw_os_error(
                    code.raw_os_error()
                )));
            }
        }
        assert!(!is_out_of_descriptors(&io::Error::from(
            io::ErrorKind::ConnectionRefused
        )));
    }

    #[test]
    fn more_connections_than_descriptors_is_an_error_with_the_numbers() {
        let Some(limit) = descriptor_limit() else {
            return;
        };
        assert!(check_descriptors(1).is_ok() || limit < RESERVED_DESCRIPTORS + 1);
        let e = check_descriptors(limit).unwrap_err().to_string();
        assert!(e.contains(&limit.to_string()), "{e}");
        assert!(
            e.contains(&(limit + RESERVED_DESCRIPTORS).to_string()),
            "{e}"
        );
    }
}
