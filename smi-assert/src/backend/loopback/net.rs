//! Network helpers shared by the sample services and the sidecars: `Host` resolution and the
//! classification of transport errors into outcome classes.

use crate::backend::Outcome;

/// Resolves a `Host` (`svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local`, optionally
/// with a trailing dot and a port, 80 by default) to (Service, namespace, port); empty labels are
/// rejected.
pub(super) fn parse_host(host: &str, own_ns: &str) -> Option<(String, String, u16)> {
    let (name, port) = match host.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().ok()?),
        None => (host, 80),
    };
    let name = name.strip_suffix('.').unwrap_or(name);
    let labels: Vec<&str> = name.split('.').collect();
    if labels.iter().any(|l| l.is_empty()) {
        return None;
    }
    match labels.as_slice() {
        [svc] => Some(((*svc).into(), own_ns.into(), port)),
        [svc, ns] | [svc, ns, "svc"] | [svc, ns, "svc", "cluster", "local"] => {
            Some(((*svc).into(), (*ns).into(), port))
        }
        _ => None,
    }
}

/// The outcome class of a transport error, as smps-load classes it: a reset, an aborted
/// connection and a broken pipe (a write to a connection the peer has closed) are all resets; a
/// connection closed before a whole response is EOF.
pub(super) fn classify(e: &(dyn std::error::Error + 'static)) -> Outcome {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(h) = err.downcast_ref::<hyper::Error>()
            && h.is_incomplete_message()
        {
            return Outcome::Eof;
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
                | std::io::ErrorKind::BrokenPipe => return Outcome::Reset,
                std::io::ErrorKind::ConnectionRefused => return Outcome::Refused,
                std::io::ErrorKind::UnexpectedEof => return Outcome::Eof,
                std::io::ErrorKind::TimedOut => return Outcome::Timeout,
                _ => {}
            }
        }
        cur = err.source();
    }
    Outcome::Other {
        message: e.to_string(),
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_parse_with_and_without_namespace() {
        assert_eq!(
            parse_host("app-b:9091", "t"),
            Some(("app-b".into(), "t".into(), 9091))
        );
        assert_eq!(
            parse_host("app-b.x.svc.cluster.local.:9091", "t"),
            Some(("app-b".into(), "x".into(), 9091))
        );
        assert_eq!(parse_host("app-b.x..svc.cluster.local.:9091", "t"), None);
    }

    #[test]
    fn transport_errors_are_classed_as_smps_load_classes_them() {
        use std::io::{Error as IoError, ErrorKind};
        // Regression (issue 13): a broken pipe was EOF here and a reset in smps-load.
        for kind in [
            ErrorKind::BrokenPipe,
            ErrorKind::ConnectionReset,
            ErrorKind::ConnectionAborted,
        ] {
            assert_eq!(classify(&IoError::from(kind)), Outcome::Reset, "{kind:?}");
        }
        assert_eq!(
            classify(&IoError::from(ErrorKind::UnexpectedEof)),
            Outcome::Eof
        );
        assert_eq!(
            classify(&IoError::from(ErrorKind::ConnectionRefused)),
            Outcome::Refused
        );
        assert_eq!(
            classify(&IoError::from(ErrorKind::TimedOut)),
            Outcome::Timeout
        );
        // Wrapped causes are found through the source chain.
        #[derive(Debug)]
        struct Wrapper(IoError);
        impl std::fmt::Display for Wrapper {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("send failed")
            }
        }
        impl std::error::Error for Wrapper {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let wrapped = Wrapper(IoError::from(ErrorKind::BrokenPipe));
        assert_eq!(classify(&wrapped), Outcome::Reset);
    }
}
