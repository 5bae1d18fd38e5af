//! A read-only view of a parsed document ([`Tree`]) shared by the semantic rules, with two
//! implementations: `serde_json::Value` (the full path, which also feeds the jsonschema crate)
//! and [`Node`], a borrowed tree the fast path builds without copying strings.

use std::borrow::Cow;

use serde_json::{Map, Value};
use smps_model::ValueKind;
use smps_model::spelling;

/// What the semantic rules need from a document tree.
pub(crate) trait Tree: Sized {
    /// The object type of this tree.
    type Map: Object<Self>;
    /// The object, if this is one.
    fn as_object(&self) -> Option<&Self::Map>;
    /// The items, if this is an array.
    fn as_array(&self) -> Option<&[Self]>;
    /// The text, if this is a string.
    fn as_str(&self) -> Option<&str>;
    /// Whether this is a JSON number.
    fn is_number(&self) -> bool;
    /// The number as `f64`, if this is a number.
    fn as_f64(&self) -> Option<f64>;
    /// The number as `i64`, if this is an integer that fits.
    fn as_i64(&self) -> Option<i64>;
    /// Whether this is `null`.
    fn is_null(&self) -> bool;
    /// An owned copy, for findings.
    fn to_value(&self) -> Value;
    /// What the value is, for recognising a document's shape.
    fn value_kind(&self) -> ValueKind;
}

/// An object of a [`Tree`].
pub(crate) trait Object<T> {
    /// The member named `key`.
    fn get(&self, key: &str) -> Option<&T>;
    /// Members in document order.
    fn members<'s>(&'s self) -> impl Iterator<Item = (&'s str, &'s T)> + Clone
    where
        T: 's;
}

impl Tree for Value {
    type Map = Map<String, Value>;

    fn as_object(&self) -> Option<&Self::Map> {
        Value::as_object(self)
    }

    fn as_array(&self) -> Option<&[Self]> {
        Value::as_array(self).map(Vec::as_slice)
    }

    fn as_str(&self) -> Option<&str> {
        Value::as_str(self)
    }

    fn is_number(&self) -> bool {
        Value::is_number(self)
    }

    fn as_f64(&self) -> Option<f64> {
        Value::as_f64(self)
    }

    fn as_i64(&self) -> Option<i64> {
        Value::as_i64(self)
    }

    fn is_null(&self) -> bool {
        Value::is_null(self)
    }

    fn to_value(&self) -> Value {
        self.clone()
    }

    fn value_kind(&self) -> ValueKind {
        ValueKind::from(self)
    }
}

impl Object<Value> for Map<String, Value> {
    fn get(&self, key: &str) -> Option<&Value> {
        Map::get(self, key)
    }

    fn members<'s>(&'s self) -> impl Iterator<Item = (&'s str, &'s Value)> + Clone
    where
        Value: 's,
    {
        self.iter().map(|(k, v)| (k.as_str(), v))
    }
}

/// A JSON value borrowing its strings from the input where it can.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node<'a> {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(Cow<'a, str>),
    Arr(Vec<Node<'a>>),
    Obj(Members<'a>),
}

/// Object members in document order (objects in SMP documents are small: a linear scan beats
/// hashing).
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Members<'a>(pub(crate) Vec<(Cow<'a, str>, Node<'a>)>);

impl<'a> Members<'a> {
    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_ref())
    }
}

impl<'a> Object<Node<'a>> for Members<'a> {
    fn get(&self, key: &str) -> Option<&Node<'a>> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    fn members<'s>(&'s self) -> impl Iterator<Item = (&'s str, &'s Node<'a>)> + Clone
    where
        Node<'a>: 's,
    {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }
}

impl<'a> Tree for Node<'a> {
    type Map = Members<'a>;

    fn as_object(&self) -> Option<&Self::Map> {
        match self {
            Node::Obj(m) => Some(m),
            _ => None,
        }
    }

    fn as_array(&self) -> Option<&[Self]> {
        match self {
            Node::Arr(a) => Some(a),
            _ => None,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Node::Str(s) => Some(s),
            _ => None,
        }
    }

    fn is_number(&self) -> bool {
        matches!(self, Node::Int(_) | Node::UInt(_) | Node::Float(_))
    }

    #[allow(clippy::cast_precision_loss)] // as serde_json's `Value::as_f64`
    fn as_f64(&self) -> Option<f64> {
        match *self {
            Node::Int(i) => Some(i as f64),
            Node::UInt(u) => Some(u as f64),
            Node::Float(f) => Some(f),
            _ => None,
        }
    }

    fn as_i64(&self) -> Option<i64> {
        match *self {
            Node::Int(i) => Some(i),
            Node::UInt(u) => i64::try_from(u).ok(),
            _ => None,
        }
    }

    fn is_null(&self) -> bool {
        matches!(self, Node::Null)
    }

    fn value_kind(&self) -> ValueKind {
        match self {
            Node::Null => ValueKind::Null,
            Node::Bool(_) => ValueKind::Bool,
            Node::Int(_) | Node::UInt(_) | Node::Float(_) => ValueKind::Number,
            Node::Str(_) => ValueKind::String,
            Node::Arr(_) => ValueKind::Array,
            Node::Obj(_) => ValueKind::Object,
        }
    }

    fn to_value(&self) -> Value {
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Int(i) => Value::from(*i),
            Node::UInt(u) => Value::from(*u),
            Node::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Node::Str(s) => Value::String(s.clone().into_owned()),
            Node::Arr(a) => Value::Array(a.iter().map(Tree::to_value).collect()),
            Node::Obj(m) => Value::Object(
                m.0.iter()
                    .map(|(k, v)| (k.clone().into_owned(), v.to_value()))
                    .collect(),
            ),
        }
    }
}

/// Whether `key` may join `members` of a plainly canonical object: it has its canonical
/// spelling (outside user maps, `raw`) and is new. Objects of more than 64 members are left to
/// the full path, whose map catches repeats in O(1); this check is linear.
#[cfg_attr(not(feature = "yaml"), allow(dead_code))] // only the YAML fast path reads members this way
pub(crate) fn plain_member(members: &[(Cow<'_, str>, Node<'_>)], key: &str, raw: bool) -> bool {
    (raw || spelling::canonical_key(key) == key)
        && members.len() < 64
        && !members.iter().any(|(k, _)| k == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_must_be_canonical_and_new() {
        let members = vec![(Cow::Borrowed("a"), Node::Int(1))];
        assert!(plain_member(&members, "b", false));
        assert!(!plain_member(&members, "a", false));
        assert!(!plain_member(&members, "start_time", false));
        assert!(plain_member(&members, "start_time", true));
    }
}
