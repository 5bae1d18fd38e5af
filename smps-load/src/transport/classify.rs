//! How failures become [`ErrorKind`]s: operating-system errors of connects and I/O, HTTP/2
//! errors of the `h2` crate (GOAWAY, RST_STREAM and refused streams told apart), and hyper's
//! errors (HTTP/1.1).

use std::io;

use crate::ErrorKind;

/// The kind of a failed connect.
pub(crate) fn classify_connect_io(e: &io::Error) -> ErrorKind {
    if crate::limits::is_out_of_descriptors(e) {
        return ErrorKind::TooManyOpenFiles;
    }
    match e.kind() {
        io::ErrorKind::ConnectionRefused => ErrorKind::ConnectRefused,
        io::ErrorKind::TimedOut => ErrorKind::ConnectTimeout,
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => ErrorKind::ConnectionReset,
        _ => ErrorKind::Connect,
    }
}

/// The kind of a failed read or write on an open connection.
pub(crate) fn classify_io(e: &io::Error) -> ErrorKind {
    match e.kind() {
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => ErrorKind::ConnectionReset,
        io::ErrorKind::UnexpectedEof => ErrorKind::ConnectionClosed,
        io::ErrorKind::ConnectionRefused => ErrorKind::ConnectRefused,
        io::ErrorKind::TimedOut => ErrorKind::RequestTimeout,
        _ => ErrorKind::Other,
    }
}

/// The kind of an HTTP/2 error of the `h2` crate.
#[cfg(feature = "http2")]
pub(crate) fn classify_h2(e: &h2::Error) -> ErrorKind {
    if let Some(io) = e.get_io() {
        return classify_io(io);
    }
    if e.is_go_away() {
        // The peer's GOAWAY ended the connection before this stream completed.
        return if e.is_remote() {
            ErrorKind::Http2GoAway
        } else {
            ErrorKind::Protocol
        };
    }
    if e.is_reset() {
        if !e.is_remote() {
            return ErrorKind::Protocol;
        }
        return if e.reason() == Some(h2::Reason::REFUSED_STREAM) {
            ErrorKind::Http2RefusedStream
        } else {
            ErrorKind::Http2StreamReset
        };
    }
    // A frame the library refused, or another protocol violation.
    ErrorKind::Protocol
}

/// The kind of a hyper client error.
pub(crate) fn classify_hyper(e: &hyper::Error) -> ErrorKind {
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        #[cfg(feature = "http2")]
        if let Some(h2) = s.downcast_ref::<h2::Error>() {
            return classify_h2(h2);
        }
        if let Some(io) = s.downcast_ref::<io::Error>() {
            match io.kind() {
                io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe => return ErrorKind::ConnectionReset,
                io::ErrorKind::UnexpectedEof => return ErrorKind::ConnectionClosed,
                io::ErrorKind::TimedOut => return ErrorKind::RequestTimeout,
                _ => {}
            }
        }
        src = s.source();
    }
    if e.is_timeout() {
        ErrorKind::RequestTimeout
    } else if e.is_parse() || e.is_parse_status() {
        ErrorKind::Protocol
    } else if e.is_incomplete_message() || e.is_closed() || e.is_canceled() {
        ErrorKind::ConnectionClosed
    } else if e.is_user() {
        ErrorKind::Other
    } else {
        ErrorKind::Protocol
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(unix)]
    fn running_out_of_file_descriptors_is_its_own_kind() {
        let emfile = io::Error::from_raw_os_error(rustix::io::Errno::MFILE.raw_os_error());
        assert_eq!(classify_connect_io(&emfile), ErrorKind::TooManyOpenFiles);
    }

    #[test]
    fn connect_errors_map_to_stable_kinds() {
        let k = |kind| classify_connect_io(&io::Error::from(kind));
        assert_eq!(
            k(io::ErrorKind::ConnectionRefused),
            ErrorKind::ConnectRefused
        );
        assert_eq!(k(io::ErrorKind::TimedOut), ErrorKind::ConnectTimeout);
        assert_eq!(
            k(io::ErrorKind::ConnectionReset),
            ErrorKind::ConnectionReset
        );
        assert_eq!(k(io::ErrorKind::PermissionDenied), ErrorKind::Connect);
    }

    #[test]
    fn io_errors_on_an_open_connection_map_to_stable_kinds() {
        let k = |kind| classify_io(&io::Error::from(kind));
        assert_eq!(k(io::ErrorKind::UnexpectedEof), ErrorKind::ConnectionClosed);
        assert_eq!(k(io::ErrorKind::BrokenPipe), ErrorKind::ConnectionReset);
        assert_eq!(
            k(io::ErrorKind::ConnectionRefused),
            ErrorKind::ConnectRefused
        );
    }
}
