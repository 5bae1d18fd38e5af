//! The causes this backend chains under the crate's [`Error`]: [`ApiError`], a failed request to
//! the API server, and the internal `Failure` that carries what step failed and why up to the
//! operation that names the object or workload.
//!
//! No text chained here holds a credential: the layers of a kube client error that may quote one
//! (a failed credential plugin's command line, environment and output; the parser's message on a
//! kubeconfig or a plugin's output) are replaced by a `Redacted` stand-in (`client_cause`).

use std::fmt;

use ::kube::client::AuthError;
use ::kube::config::KubeconfigError;

use crate::backend::Error;
use crate::error::BoxError;

/// A request to the Kubernetes API server failed: the server answered with an error `Status`
/// (`HTTP 500 InternalError: etcd is on fire`), or it could not be reached or its answer could not
/// be read ("cannot talk to the API server", with the client's error as the
/// [`source`](std::error::Error::source)), or the client could not get its credentials ("cannot
/// authenticate to the API server").
///
/// Neither its text nor its sources hold a credential: where the client's error may quote one (a
/// credential plugin's command line or output), the source says what failed and leaves that out.
///
/// The backends of this module chain it as the `source` of the crate's [`Error`] variants;
/// find it with `downcast_ref` on that source.
///
/// # Examples
///
/// ```no_run
/// use smi_assert::backend::ClusterBackend;
/// use smi_assert::backend::ObjectRef;
/// use smi_assert::backend::kube::{ApiError, KubeCluster};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let cluster = KubeCluster::try_default().await?;
/// let cm = ObjectRef::new("v1", "ConfigMap", Some("default".into()), "a");
/// if let Err(e) = cluster.get(&cm).await {
///     let api = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<ApiError>());
///     if let Some(code) = api.and_then(ApiError::code) {
///         eprintln!("the API server answered HTTP {code}");
///     }
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(()) })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct ApiError {
    code: Option<u16>,
    text: String,
    client: Option<BoxError>,
}

impl ApiError {
    /// The error of a kube client call.
    pub(crate) fn new(e: ::kube::Error) -> Self {
        match e {
            ::kube::Error::Api(s) => Self::status(s.code, &s.reason, &s.message),
            other => {
                let text = if is_auth(&other) {
                    "cannot authenticate to the API server"
                } else {
                    "cannot talk to the API server"
                };
                Self {
                    code: None,
                    text: text.into(),
                    client: Some(client_cause(other)),
                }
            }
        }
    }

    /// An error `Status` the server answered with.
    pub(crate) fn status(code: u16, reason: &str, message: &str) -> Self {
        let mut text = format!("HTTP {code}");
        if !reason.is_empty() {
            text.push(' ');
            text.push_str(reason);
        }
        if !message.is_empty() {
            text.push_str(": ");
            text.push_str(message);
        }
        Self {
            code: Some(code),
            text,
            client: None,
        }
    }

    /// The HTTP status the server answered with; `None` when it was not reached or its answer
    /// could not be read.
    #[must_use]
    pub fn code(&self) -> Option<u16> {
        self.code
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.client
            .as_ref()
            .map(|e| e.as_ref() as &(dyn std::error::Error + 'static))
    }
}

/// The cause to chain for an error of the kube client or its configuration: the error itself, or
/// a [`Redacted`] stand-in when a layer of it may quote a credential.
pub(crate) fn client_cause<E>(e: E) -> BoxError
where
    E: std::error::Error + Send + Sync + 'static,
{
    match redaction(&e) {
        Some(text) => Box::new(Redacted(text)),
        None => Box::new(e),
    }
}

/// Whether a layer of `e` is a failure to get credentials.
fn is_auth(e: &(dyn std::error::Error + 'static)) -> bool {
    layers(e).any(|l| l.is::<AuthError>())
}

/// `e` and its sources.
fn layers<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(e), |l| l.source())
}

/// What to say instead of `e` when a layer of it may quote a credential: a failed credential
/// plugin (its error holds the command line with its arguments and environment, and the plugin's
/// output), or a parser's message on a plugin's output or a kubeconfig (it may quote the text,
/// tokens included). `None` when `e` is safe to show as it is.
fn redaction(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    const LEFT_OUT: &str = "left out, as they may hold credentials";
    layers(e).find_map(|layer| {
        match layer.downcast_ref::<AuthError>() {
            Some(AuthError::AuthExecRun { out, .. }) => {
                return Some(format!(
                    "the credential plugin (exec) failed with {}; its command line, environment \
                     and output are {LEFT_OUT}",
                    out.status
                ));
            }
            Some(AuthError::AuthExecParse(_)) => {
                return Some(format!(
                    "the output of the credential plugin (exec) is not an ExecCredential; the \
                     output and the parser's message are {LEFT_OUT}"
                ));
            }
            _ => {}
        }
        match layer.downcast_ref::<KubeconfigError>() {
            Some(KubeconfigError::Parse(_)) => Some(format!(
                "the kubeconfig is not a valid kubeconfig YAML; its text and the parser's message \
                 are {LEFT_OUT}"
            )),
            _ => None,
        }
    })
}

/// A stand-in for a client error whose text may quote a credential: what failed, without it.
#[derive(Debug)]
struct Redacted(String);

impl fmt::Display for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Redacted {}

/// Why a step of a backend operation failed: the step (the reason text) and its cause.
#[derive(Debug)]
pub(crate) struct Failure {
    reason: String,
    source: Option<BoxError>,
}

impl Failure {
    /// A failure with no underlying error.
    pub(crate) fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            source: None,
        }
    }

    /// A failure caused by `source`.
    pub(crate) fn caused(reason: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self {
            reason: reason.into(),
            source: Some(source.into()),
        }
    }

    /// A failed API call: `what` names it, the [`ApiError`] is the cause.
    pub(crate) fn api(what: impl Into<String>, e: ::kube::Error) -> Self {
        Self::caused(what, ApiError::new(e))
    }

    /// The same failure as a step of `step`: the reason becomes `step: reason` (`step` when
    /// there was no reason text, the reason alone when `step` is empty).
    pub(crate) fn within(self, step: impl fmt::Display) -> Self {
        let step = step.to_string();
        let reason = match (step.is_empty(), self.reason.is_empty()) {
            (true, _) => self.reason,
            (false, true) => step,
            (false, false) => format!("{step}: {}", self.reason),
        };
        Self { reason, ..self }
    }

    /// [`Error::Apply`] of `object`.
    pub(crate) fn apply(self, object: impl Into<String>) -> Error {
        Error::Apply {
            object: object.into(),
            reason: self.reason,
            source: self.source,
        }
    }

    /// [`Error::ReadObject`] of `object`.
    pub(crate) fn read(self, object: impl Into<String>) -> Error {
        Error::ReadObject {
            object: object.into(),
            reason: self.reason,
            source: self.source,
        }
    }

    /// [`Error::Delete`] of `object`.
    pub(crate) fn delete(self, object: impl Into<String>) -> Error {
        Error::Delete {
            object: object.into(),
            reason: self.reason,
            source: self.source,
        }
    }

    /// [`Error::Namespace`] of `namespace`.
    pub(crate) fn namespace(self, namespace: impl Into<String>) -> Error {
        Error::Namespace {
            namespace: namespace.into(),
            reason: self.reason,
            source: self.source,
        }
    }

    /// [`Error::Send`] from `source_workload`.
    pub(crate) fn send(self, source_workload: impl Into<String>) -> Error {
        Error::Send {
            source_workload: source_workload.into(),
            reason: self.reason,
            source: self.source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_prefixes_the_reason_and_an_empty_one_leaves_it() {
        let f = Failure::new("HTTP 500").within("get");
        assert_eq!(f.reason, "get: HTTP 500");
        assert_eq!(Failure::new("").within("get").reason, "get");
        assert_eq!(Failure::new("timed out").within("").reason, "timed out");
    }

    /// `e`'s message and those of its sources, and its `Debug` form.
    fn everything_said(e: &(dyn std::error::Error + 'static)) -> String {
        let mut out = format!("{e:?}");
        for layer in layers(e) {
            out.push('\n');
            out.push_str(&layer.to_string());
        }
        out
    }

    #[cfg(unix)]
    fn failed_plugin() -> AuthError {
        use std::os::unix::process::ExitStatusExt;
        AuthError::AuthExecRun {
            cmd: r#""get-token" "--key=s3cr3t-arg""#.into(),
            out: Box::new(std::process::Output {
                status: std::process::ExitStatus::from_raw(256),
                stdout: br#"{"token":"s3cr3t-out"}"#.to_vec(),
                stderr: b"refusing s3cr3t-err".to_vec(),
            }),
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_failed_credential_plugin_is_said_without_its_command_line_or_output() {
        // The client's own message quotes them.
        assert!(failed_plugin().to_string().contains("s3cr3t-out"));
        for e in [
            ::kube::Error::Auth(failed_plugin()),
            // As the client reports a failed refresh during a request.
            ::kube::Error::Service(Box::new(failed_plugin())),
        ] {
            let api = ApiError::new(e);
            assert_eq!(api.code(), None);
            assert_eq!(api.to_string(), "cannot authenticate to the API server");
            let said = everything_said(&api);
            assert!(!said.contains("s3cr3t"), "{said}");
            assert!(
                said.contains("the credential plugin (exec) failed with exit status: 1"),
                "{said}"
            );
        }
    }

    #[test]
    fn a_kubeconfig_parse_error_is_said_without_the_parsers_message() {
        let yaml =
            "apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    token: [s3cr3t-token]\n";
        let e = ::kube::config::Kubeconfig::from_yaml(yaml).unwrap_err();
        assert!(matches!(e, KubeconfigError::Parse(_)), "{e:?}");
        let cause = client_cause(e);
        let said = everything_said(cause.as_ref());
        assert!(!said.contains("s3cr3t"), "{said}");
        assert!(
            said.starts_with("Redacted(\"the kubeconfig is not a valid kubeconfig YAML"),
            "{said}"
        );
    }

    #[test]
    fn other_client_errors_are_chained_as_they_are() {
        let api = ApiError::new(::kube::Error::Auth(AuthError::MissingCommand));
        assert_eq!(api.to_string(), "cannot authenticate to the API server");
        let client = std::error::Error::source(&api).expect("the client's error");
        assert!(
            matches!(
                client.downcast_ref::<::kube::Error>(),
                Some(::kube::Error::Auth(AuthError::MissingCommand))
            ),
            "{client:?}"
        );
        let api = ApiError::new(::kube::Error::LinesCodecMaxLineLengthExceeded);
        assert_eq!(api.to_string(), "cannot talk to the API server");
    }

    #[test]
    fn a_status_without_reason_or_message_is_its_code() {
        let e = ApiError::status(503, "", "");
        assert_eq!(e.to_string(), "HTTP 503");
        assert_eq!(e.code(), Some(503));
    }
}
