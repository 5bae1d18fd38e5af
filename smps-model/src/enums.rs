//! The SMP enums and how each may be spelled.
//!
//! Every enum reads from its current (v0.3.0+) number, its canonical proto name
//! (`PROTOCOL_HTTP`), a short lower-case name (`http`), a numeric string (`"1"`), and the
//! historical aliases listed per variant (`maesh`, `appmesh`). Names match regardless of case,
//! `_`, `-` and spaces. The pre-v0.3.0 numbering (every value one lower) is never guessed: ask for
//! it with [`crate::ReadOptions::legacy_enum_numbers`].

use std::fmt;

use crate::fold::fold;

/// An enum value that is not one of the known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {enum_name} value `{value}`: expected one of {expected}")]
pub struct UnknownEnumValue {
    /// The enum's name, for example `Protocol`.
    pub enum_name: &'static str,
    /// The value as written.
    pub value: String,
    /// The accepted names and numbers, for the message.
    pub expected: String,
}

macro_rules! proto_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident = $num:literal, $canonical:literal, $short:literal $(, [$($alias:literal),*])?;
            )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        #[non_exhaustive]
        pub enum $name {
            $(
                $(#[$vmeta])*
                $variant,
            )+
        }

        impl $name {
            /// Every value, in proto number order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The current (v0.3.0+) proto number.
            pub fn number(self) -> i32 {
                match self {
                    $($name::$variant => $num,)+
                }
            }

            /// The value for a current (v0.3.0+) proto number.
            pub fn from_number(number: i64) -> Option<Self> {
                match number {
                    $($num => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The value for a number of the pre-v0.3.0 protos, which had no `INVALID` entry and
            /// so numbered every value one lower (`0` was the first real value).
            pub fn from_legacy_number(number: i64) -> Option<Self> {
                number.checked_add(1).and_then(Self::from_number).filter(|v| v.number() != 0)
            }

            /// The canonical proto name, as proto3 JSON writes it.
            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $canonical,)+
                }
            }

            /// A short lower-case name (`http`, `istio`), as Meshery's newer APIs write it.
            pub fn short_name(self) -> &'static str {
                match self {
                    $($name::$variant => $short,)+
                }
            }

            /// Whether this is the zero "invalid / not set" value.
            pub fn is_invalid(self) -> bool {
                self.number() == 0
            }

            /// Finds a value by any accepted name (case, `_`, `-` and spaces ignored).
            pub fn from_name(name: &str) -> Option<Self> {
                let folded = fold(name);
                $(
                    if folded == fold($canonical) || folded == fold($short)
                        $($(|| folded == fold($alias))*)?
                    {
                        return Some($name::$variant);
                    }
                )+
                None
            }

            /// Parses a name or a current number (also as a numeric string).
            ///
            /// # Errors
            ///
            /// [`UnknownEnumValue`] listing what is accepted.
            pub fn parse(value: &str) -> Result<Self, UnknownEnumValue> {
                let trimmed = value.trim();
                let found = match trimmed.parse::<i64>() {
                    Ok(n) => Self::from_number(n),
                    Err(_) => Self::from_name(trimmed),
                };
                found.ok_or_else(|| Self::unknown(value))
            }

            fn unknown(value: impl fmt::Display) -> UnknownEnumValue {
                let expected = Self::ALL
                    .iter()
                    .map(|v| format!("{} ({})", v.name(), v.number()))
                    .collect::<Vec<_>>()
                    .join(", ");
                UnknownEnumValue {
                    enum_name: stringify!($name),
                    value: value.to_string(),
                    expected,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownEnumValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        write!(f, "a {} name or number", stringify!($name))
                    }
                    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<$name, E> {
                        $name::from_number(v).ok_or_else(|| E::custom($name::unknown(v)))
                    }
                    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<$name, E> {
                        i64::try_from(v)
                            .ok()
                            .and_then($name::from_number)
                            .ok_or_else(|| E::custom($name::unknown(v)))
                    }
                    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<$name, E> {
                        if v.fract() == 0.0 && v.abs() < 1e15 {
                            self.visit_i64(v as i64)
                        } else {
                            Err(E::custom($name::unknown(v)))
                        }
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$name, E> {
                        $name::parse(v).map_err(E::custom)
                    }
                    fn visit_unit<E: serde::de::Error>(self) -> Result<$name, E> {
                        Ok($name::default())
                    }
                    fn visit_none<E: serde::de::Error>(self) -> Result<$name, E> {
                        Ok($name::default())
                    }
                }
                d.deserialize_any(V)
            }
        }

        #[cfg(feature = "schema")]
        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                let names: Vec<&str> = $name::ALL.iter().map(|v| v.name()).collect();
                let numbers: Vec<i32> = $name::ALL.iter().map(|v| v.number()).collect();
                schemars::json_schema!({
                    "description": concat!(
                        "The ", stringify!($name),
                        " enum: its canonical name (written) or current number; readers also ",
                        "accept short lower-case names."
                    ),
                    "anyOf": [
                        { "type": "string", "enum": names },
                        { "type": "integer", "enum": numbers },
                        { "type": "string", "pattern": "^[A-Za-z0-9_ -]+$" }
                    ]
                })
            }
        }
    };
}

proto_enum! {
    /// `PerformanceTestConfig.Client.Protocol`: the protocol the load generator speaks.
    Protocol {
        /// `PROTOCOL_INVALID` (0): not set.
        #[default]
        Invalid = 0, "PROTOCOL_INVALID", "invalid", [""];
        /// `PROTOCOL_HTTP` (1): HTTP/1.1 or HTTP/2.
        Http = 1, "PROTOCOL_HTTP", "http";
        /// `PROTOCOL_TCP` (2): raw TCP.
        Tcp = 2, "PROTOCOL_TCP", "tcp";
        /// `PROTOCOL_UDP` (3): UDP.
        Udp = 3, "PROTOCOL_UDP", "udp";
        /// `PROTOCOL_GRPC` (4): gRPC.
        Grpc = 4, "PROTOCOL_GRPC", "grpc";
    }
}

proto_enum! {
    /// `ServiceMesh.Type`: which service mesh.
    MeshType {
        /// `INVALID_MESH` (0): not set.
        #[default]
        Invalid = 0, "INVALID_MESH", "invalid", ["", "none", "no mesh"];
        /// `APP_MESH` (1): AWS App Mesh.
        AppMesh = 1, "APP_MESH", "app_mesh", ["aws app mesh"];
        /// `CONSUL` (2): HashiCorp Consul.
        Consul = 2, "CONSUL", "consul";
        /// `ISTIO` (3): Istio.
        Istio = 3, "ISTIO", "istio";
        /// `KUMA` (4): Kuma.
        Kuma = 4, "KUMA", "kuma";
        /// `LINKERD` (5): Linkerd.
        Linkerd = 5, "LINKERD", "linkerd";
        /// `TRAEFIK_MESH` (6): Traefik Mesh, formerly Maesh.
        TraefikMesh = 6, "TRAEFIK_MESH", "traefik_mesh", ["maesh", "traefik"];
        /// `OCTARINE` (7): Octarine.
        Octarine = 7, "OCTARINE", "octarine";
        /// `NETWORK_SERVICE_MESH` (8): Network Service Mesh.
        NetworkServiceMesh = 8, "NETWORK_SERVICE_MESH", "network_service_mesh", ["nsm"];
        /// `TANZU` (9): VMware Tanzu Service Mesh.
        Tanzu = 9, "TANZU", "tanzu", ["tanzu service mesh"];
        /// `OPEN_SERVICE_MESH` (10): Open Service Mesh.
        OpenServiceMesh = 10, "OPEN_SERVICE_MESH", "open_service_mesh", ["osm"];
        /// `NGINX_SERVICE_MESH` (11): NGINX Service Mesh.
        NginxServiceMesh = 11, "NGINX_SERVICE_MESH", "nginx_service_mesh", ["nginx", "nsm nginx"];
        /// `CILIUM_SERVICE_MESH` (12): Cilium Service Mesh.
        CiliumServiceMesh = 12, "CILIUM_SERVICE_MESH", "cilium_service_mesh", ["cilium"];
    }
}

proto_enum! {
    /// `ApplicationMetadata.ApplicationProtocol`: the protocol the application serves.
    ApplicationProtocol {
        /// `PROTOCOL_INVALID` (0): not set.
        #[default]
        Invalid = 0, "PROTOCOL_INVALID", "invalid", [""];
        /// `PROTOCOL_HTTP` (1): plain HTTP.
        Http = 1, "PROTOCOL_HTTP", "http";
        /// `PROTOCOL_HTTPS` (2): HTTP over TLS.
        Https = 2, "PROTOCOL_HTTPS", "https";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_accepts_every_spelling() {
        for s in [
            "1",
            "PROTOCOL_HTTP",
            "http",
            "HTTP",
            "protocol-http",
            " http ",
        ] {
            assert_eq!(Protocol::parse(s), Ok(Protocol::Http), "{s}");
        }
        assert_eq!(Protocol::parse("0"), Ok(Protocol::Invalid));
        assert!(Protocol::parse("99").is_err());
        assert!(Protocol::parse("carrier pigeon").is_err());
    }

    #[test]
    fn unknown_values_list_the_accepted_ones() {
        let e = Protocol::parse("99").unwrap_err();
        assert_eq!(e.enum_name, "Protocol");
        assert!(e.to_string().contains("PROTOCOL_GRPC (4)"), "{e}");
    }

    #[test]
    fn legacy_numbers_shift_by_one() {
        assert_eq!(Protocol::from_legacy_number(1), Some(Protocol::Tcp));
        assert_eq!(Protocol::from_legacy_number(0), Some(Protocol::Http));
        assert_eq!(MeshType::from_legacy_number(2), Some(MeshType::Istio));
        assert_eq!(MeshType::from_legacy_number(5), Some(MeshType::TraefikMesh));
        assert_eq!(MeshType::from_legacy_number(-1), None);
        assert_eq!(
            ApplicationProtocol::from_legacy_number(1),
            Some(ApplicationProtocol::Https)
        );
    }

    #[test]
    fn mesh_names_cover_history() {
        assert_eq!(MeshType::parse("3"), Ok(MeshType::Istio));
        assert_eq!(MeshType::parse("ISTIO"), Ok(MeshType::Istio));
        assert_eq!(MeshType::parse("istio"), Ok(MeshType::Istio));
        assert_eq!(MeshType::parse("TRAEFIK_MESH"), Ok(MeshType::TraefikMesh));
        assert_eq!(MeshType::parse("MAESH"), Ok(MeshType::TraefikMesh));
        assert_eq!(MeshType::parse("maesh"), Ok(MeshType::TraefikMesh));
        assert_eq!(MeshType::parse("appmesh"), Ok(MeshType::AppMesh));
        assert_eq!(MeshType::parse("app mesh"), Ok(MeshType::AppMesh));
        assert_eq!(
            MeshType::parse("networkservicemesh"),
            Ok(MeshType::NetworkServiceMesh)
        );
    }

    #[test]
    fn names_round_trip() {
        for v in MeshType::ALL {
            assert_eq!(MeshType::parse(v.name()), Ok(*v));
            assert_eq!(MeshType::parse(v.short_name()), Ok(*v));
            assert_eq!(MeshType::from_number(i64::from(v.number())), Some(*v));
        }
    }
}
