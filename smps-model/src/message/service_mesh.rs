//! `ServiceMesh`: which mesh, in which version.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::MeshType;
use crate::de;

/// A service mesh and its version (`smp.ServiceMesh`).
///
/// Meshery's 2026 `{test, mesh}` wrapper writes the mesh as a plain string (`mesh: istio`);
/// [`crate::read`] accepts that there through [`ServiceMesh::from_name`]: a known name gives the
/// `type`, anything else is kept in the [`MESH_NAME_ANNOTATION`] annotation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ServiceMesh {
    /// Which mesh.
    #[serde(default, rename = "type", skip_serializing_if = "de::is_default")]
    pub mesh_type: MeshType,
    /// Mesh version.
    #[serde(
        default,
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub version: String,
    /// Free-form labels.
    #[serde(
        default,
        deserialize_with = "de::string_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
    /// Free-form annotations.
    #[serde(
        default,
        deserialize_with = "de::string_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub annotations: BTreeMap<String, String>,
}

/// Annotation key under which a free-form mesh name that is not a known [`MeshType`] is kept.
pub const MESH_NAME_ANNOTATION: &str = "smps.io/mesh-name";

impl ServiceMesh {
    /// A mesh of the given type with no version.
    pub fn new(mesh_type: MeshType) -> Self {
        ServiceMesh {
            mesh_type,
            ..Default::default()
        }
    }

    /// Interprets a free-form mesh name (`"istio"`, `"app mesh"`, `"LINKERD"`): a known name
    /// gives its [`MeshType`]; anything else is kept in the [`MESH_NAME_ANNOTATION`] annotation
    /// with the type left invalid. An empty name gives `None`.
    pub fn from_name(name: &str) -> Option<Self> {
        let trimmed = name.trim();
        if trimmed.is_empty() {
            return None;
        }
        Some(match MeshType::from_name(trimmed) {
            Some(t) => ServiceMesh::new(t),
            None => {
                let mut mesh = ServiceMesh::default();
                mesh.annotations
                    .insert(MESH_NAME_ANNOTATION.to_owned(), trimmed.to_owned());
                mesh
            }
        })
    }
}
