//! The name of a setting in error messages, as the user spelled it: the builder method they
//! called (`url[0]`, `header.x-id`), or the SMP field the value came from
//! (`clients[0].endpoint_urls[0]`, `clients[0].headers.x-id`).

/// A setting that has both a builder method and an SMP client field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Setting {
    Url,
    Connections,
    Header,
    Cookie,
    ContentType,
    TrustPem,
    Rate,
    Protocol,
    Body,
}

impl Setting {
    /// The builder method's name.
    fn builder_name(self) -> &'static str {
        match self {
            Setting::Url => "url",
            Setting::Connections => "connections",
            Setting::Header => "header",
            Setting::Cookie => "cookie",
            Setting::ContentType => "content_type",
            Setting::TrustPem => "trust_pem",
            Setting::Rate => "rate",
            Setting::Protocol => "protocol",
            Setting::Body => "body",
        }
    }

    /// The SMP client field's name.
    fn smp_name(self) -> &'static str {
        match self {
            Setting::Url => "endpoint_urls",
            Setting::Connections => "connections",
            Setting::Header => "headers",
            Setting::Cookie => "cookies",
            Setting::ContentType => "content_type",
            Setting::TrustPem => "ssl_certificate",
            Setting::Rate => "rps",
            Setting::Protocol => "protocol",
            Setting::Body => "body",
        }
    }
}

/// Where the builder's settings came from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum Source {
    /// Builder methods.
    #[default]
    Builder,
    /// An SMP client, named by its path (`clients[0]`).
    Client(String),
}

impl Source {
    /// The setting's name: `connections`, or `clients[0].connections`.
    pub(crate) fn name(&self, s: Setting) -> String {
        match self {
            Source::Builder => s.builder_name().to_string(),
            Source::Client(path) => format!("{path}.{}", s.smp_name()),
        }
    }

    /// The `i`-th value of a repeated setting: `url[1]`, or `clients[0].endpoint_urls[1]`.
    pub(crate) fn item(&self, s: Setting, i: usize) -> String {
        format!("{}[{i}]", self.name(s))
    }

    /// The value under `key` of a map setting: `header.x-id`, or `clients[0].headers.x-id`.
    pub(crate) fn keyed(&self, s: Setting, key: &str) -> String {
        format!("{}.{key}", self.name(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_source() {
        let b = Source::Builder;
        let c = Source::Client("clients[0]".into());
        assert_eq!(b.item(Setting::Url, 1), "url[1]");
        assert_eq!(c.item(Setting::Url, 1), "clients[0].endpoint_urls[1]");
        assert_eq!(b.keyed(Setting::Header, "x"), "header.x");
        assert_eq!(c.keyed(Setting::Header, "x"), "clients[0].headers.x");
        assert_eq!(b.name(Setting::Rate), "rate");
        assert_eq!(c.name(Setting::Rate), "clients[0].rps");
        assert_eq!(c.name(Setting::TrustPem), "clients[0].ssl_certificate");
    }
}
