//! A compact tree of the JSON records a PowerShell export holds: what `serde_json::Value`
//! holds, in about a third of the memory. Property names are stored once per file (a
//! number per property), an object's properties and an array's items are one allocation
//! each, and strings are boxed without spare capacity. It reads JSON text the way
//! `serde_json::Value` does (same documents accepted, same duplicate-key rule, same number
//! values) and serialises to the same bytes; records become `Value`s one at a time, when a
//! recognizer reads them.

use std::collections::HashMap;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Objects with more properties than this find a repeated name through an index (a
/// hostile object with 200,000 names stays linear); smaller ones by a scan.
const SCAN_LIMIT: usize = 16;

/// One JSON value; property names are numbers into the [`Tree`]'s name list.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    Number(Number),
    Str(Box<str>),
    Array(Box<[Node]>),
    Object(Box<[(u32, Node)]>),
}

/// Interned property names.
#[derive(Debug, Clone, Default)]
struct Names {
    list: Vec<Box<str>>,
    index: HashMap<Box<str>, u32>,
}

impl Names {
    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&n) = self.index.get(name) {
            return n;
        }
        let n = u32::try_from(self.list.len()).unwrap_or(u32::MAX);
        self.list.push(name.into());
        self.index.insert(name.into(), n);
        n
    }

    fn get(&self, n: u32) -> &str {
        self.list.get(n as usize).map_or("", |s| s)
    }
}

/// The records of one file.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    names: Names,
    records: Vec<Node>,
}

/// serde_json's marker for a raw value (the `raw_value` feature): an object whose first
/// key is this reads its value's text as the JSON document (as `serde_json::Value` does).
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

impl Tree {
    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn records(&self) -> &[Node] {
        &self.records
    }

    /// Read one JSON document as a single node (the caller splits it into records).
    /// `Err` where `serde_json::from_str::<Value>` fails.
    pub fn parse_node(&mut self, text: &str) -> Result<Node, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_str(text);
        let node = NodeSeed(&mut self.names).deserialize(&mut de)?;
        de.end()?;
        Ok(node)
    }

    /// Set the records (a document's top-level items).
    pub fn set_records(&mut self, records: Vec<Node>) {
        self.records = records;
    }

    /// Append a record.
    pub fn push(&mut self, node: Node) {
        self.records.push(node);
    }

    /// Append a record given as a JSON value.
    pub fn push_value(&mut self, v: Value) {
        let n = self.node_of(v);
        self.records.push(n);
    }

    /// The node of a JSON value (its property names interned here).
    pub fn node_of(&mut self, v: Value) -> Node {
        match v {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(b),
            Value::Number(n) => Node::Number(n),
            Value::String(s) => Node::Str(s.into_boxed_str()),
            Value::Array(a) => Node::Array(a.into_iter().map(|v| self.node_of(v)).collect()),
            Value::Object(m) => Node::Object(
                m.into_iter()
                    .map(|(k, v)| (self.names.intern(&k), self.node_of(v)))
                    .collect(),
            ),
        }
    }

    pub fn shrink_to_fit(&mut self) {
        self.records.shrink_to_fit();
    }

    /// A property's name.
    pub fn name(&self, n: u32) -> &str {
        self.names.get(n)
    }

    /// Every property name any record has at any depth (a superset of each record's own).
    pub fn names(&self) -> impl Iterator<Item = &str> + '_ {
        self.names.list.iter().map(|s| &**s)
    }

    /// Record `i` as a JSON value.
    pub fn value(&self, i: usize) -> Option<Value> {
        self.records.get(i).map(|n| self.to_value(n))
    }

    /// A node as a JSON value.
    pub fn to_value(&self, n: &Node) -> Value {
        match n {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Number(x) => Value::Number(x.clone()),
            Node::Str(s) => Value::String(s.to_string()),
            Node::Array(a) => Value::Array(a.iter().map(|n| self.to_value(n)).collect()),
            Node::Object(o) => {
                let mut m = Map::with_capacity(o.len());
                for (k, v) in o.iter() {
                    m.insert(self.name(*k).to_string(), self.to_value(v));
                }
                Value::Object(m)
            }
        }
    }

    /// Record `i` as a JSON object (`None` for records that are not objects).
    pub fn object(&self, i: usize) -> Option<Map<String, Value>> {
        match self.value(i)? {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// Every record as a JSON value (costs what `Value`s cost; tests and small files).
    pub fn to_values(&self) -> Vec<Value> {
        self.records.iter().map(|n| self.to_value(n)).collect()
    }

    /// The records, serialising as the JSON array of their values.
    pub fn json(&self) -> NodesJson<'_> {
        NodesJson(self, &self.records)
    }

    /// The property of an object node with this exact name.
    pub fn get<'n>(&self, node: &'n Node, name: &str) -> Option<&'n Node> {
        match node {
            Node::Object(o) => o
                .iter()
                .find(|(k, _)| self.name(*k) == name)
                .map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Serialises nodes as a JSON array, the same bytes as their `Value`s give.
pub struct NodesJson<'a>(&'a Tree, &'a [Node]);

struct NodeJson<'a>(&'a Tree, &'a Node);

impl serde::Serialize for NodesJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.1.iter().map(|n| NodeJson(self.0, n)))
    }
}

impl serde::Serialize for NodeJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self.1 {
            Node::Null => s.serialize_unit(),
            Node::Bool(b) => s.serialize_bool(*b),
            Node::Number(n) => n.serialize(s),
            Node::Str(v) => s.serialize_str(v),
            Node::Array(a) => s.collect_seq(a.iter().map(|n| NodeJson(self.0, n))),
            Node::Object(o) => {
                let mut map = s.serialize_map(Some(o.len()))?;
                for (k, v) in o.iter() {
                    map.serialize_entry(self.0.name(*k), &NodeJson(self.0, v))?;
                }
                map.end()
            }
        }
    }
}

/// Reads one value into a [`Node`], interning property names.
struct NodeSeed<'a>(&'a mut Names);

impl<'de> DeserializeSeed<'de> for NodeSeed<'_> {
    type Value = Node;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NodeSeed<'_> {
    type Value = Node;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Number::from_f64(v).map_or(Node::Null, Node::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.into()))
    }

    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v.into_boxed_str()))
    }

    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        self.deserialize(d)
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let names = self.0;
        let mut items = Vec::new();
        while let Some(n) = seq.next_element_seed(NodeSeed(names))? {
            items.push(n);
        }
        Ok(Node::Array(items.into_boxed_slice()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let names = self.0;
        let mut props: Vec<(u32, Node)> = Vec::new();
        // Name number to position, once the object is too large to scan.
        let mut index: Option<HashMap<u32, usize>> = None;
        let mut first = true;
        while let Some(k) = map.next_key_seed(NameSeed(names))? {
            if first && names.get(k) == RAW_VALUE_TOKEN {
                let text: String = map.next_value()?;
                let mut de = serde_json::Deserializer::from_str(&text);
                let node = NodeSeed(names)
                    .deserialize(&mut de)
                    .and_then(|n| de.end().map(|()| n))
                    .map_err(serde::de::Error::custom)?;
                return Ok(node);
            }
            first = false;
            let value = map.next_value_seed(NodeSeed(names))?;
            // A repeated name keeps its first place and takes the last value (as the
            // insertion-ordered map of `serde_json::Value` does).
            let at = match &mut index {
                Some(ix) => ix.get(&k).copied(),
                None => props.iter().position(|(n, _)| *n == k),
            };
            match at {
                Some(i) => props[i].1 = value,
                None => {
                    props.push((k, value));
                    if let Some(ix) = &mut index {
                        ix.insert(k, props.len() - 1);
                    } else if props.len() > SCAN_LIMIT {
                        index = Some(
                            props
                                .iter()
                                .enumerate()
                                .map(|(i, (n, _))| (*n, i))
                                .collect(),
                        );
                    }
                }
            }
        }
        Ok(Node::Object(props.into_boxed_slice()))
    }
}

/// Reads a property name, interned.
struct NameSeed<'a>(&'a mut Names);

impl<'de> DeserializeSeed<'de> for NameSeed<'_> {
    type Value = u32;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<u32, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for NameSeed<'_> {
    type Value = u32;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a property name")
    }

    fn visit_str<E>(self, v: &str) -> Result<u32, E> {
        Ok(self.0.intern(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The tree of a document and `serde_json::Value` agree: same acceptance, same value,
    /// same bytes (compact and pretty).
    fn same_as_value(text: &str) {
        let mut t = Tree::default();
        let tree = t.parse_node(text);
        let value = serde_json::from_str::<Value>(text);
        match (tree, value) {
            (Ok(n), Ok(v)) => {
                assert_eq!(t.to_value(&n), v, "{text:?}");
                let nodes = [n];
                let j = NodesJson(&t, &nodes);
                assert_eq!(
                    serde_json::to_string_pretty(&j).ok(),
                    serde_json::to_string_pretty(&[&v]).ok()
                );
                assert_eq!(
                    serde_json::to_string(&j).ok(),
                    serde_json::to_string(&[&v]).ok()
                );
                // Built from the value, the same tree.
                let mut t2 = Tree::default();
                t2.push_value(v.clone());
                assert_eq!(t2.to_values(), vec![v]);
            }
            (Err(_), Err(_)) => {}
            (a, b) => panic!("{text:?}: tree {a:?}, value {b:?}"),
        }
    }

    #[test]
    fn reads_json_as_serde_json_value_does() {
        for text in [
            "null",
            "[]",
            "{}",
            r#"{"a":1,"b":[true,false,null],"c":{"d":"x"}}"#,
            r#"{"a":1,"b":2,"a":3}"#,
            r#"{"a":{"x":1},"a":[2]}"#,
            r#"[1.5, -0, 0.0, 1e400, -1e400, 18446744073709551615, -9223372036854775808, 1e-7]"#,
            r#""\ud83d\ude00 \u00fc \/Date(1)\/""#,
            r#"{"$serde_json::private::RawValue":"[1,{\"a\":2}]"}"#,
            r#"{"$serde_json::private::RawValue":"[1"}"#,
            r#"{"$serde_json::private::RawValue":"1","b":2}"#,
            r#"{"b":1,"$serde_json::private::RawValue":"1"}"#,
            r#"{"$serde_json::private::RawValue":5}"#,
            "[1,]",
            "{\"a\":1,}",
            "[1] x",
            "\"\u{0}\"",
        ] {
            same_as_value(text);
        }
        // A large object with repeated names (the indexed path).
        let mut big = String::from("{");
        for i in 0..100 {
            big.push_str(&format!("\"k{}\":{i},", i % 40));
        }
        big.push_str("\"k0\":\"last\"}");
        same_as_value(&big);
        let deep = "[".repeat(200) + &"]".repeat(200);
        same_as_value(&deep);
    }

    #[test]
    fn names_are_stored_once() {
        let mut t = Tree::default();
        let n = t
            .parse_node(r#"[{"Id":"a","x":{"Id":"b"}},{"Id":"c"}]"#)
            .unwrap();
        t.push(n);
        assert_eq!(t.names().collect::<Vec<_>>(), ["Id", "x"]);
        assert_eq!(t.value(1), None);
        let Node::Array(items) = &t.records()[0] else {
            panic!("an array")
        };
        assert_eq!(t.get(&items[0], "Id"), Some(&Node::Str("a".into())));
        assert_eq!(t.get(&items[0], "id"), None);
    }

    proptest! {
        #[test]
        fn any_json_shaped_text_reads_as_value_does(parts in proptest::collection::vec(prop_oneof![
            Just("{"), Just("}"), Just("["), Just("]"), Just(","), Just(":"), Just("\"a\""), Just("\"A\""),
            Just("\"b\""), Just("1"), Just("-2.5e3"), Just("null"), Just("true"), Just(" "), Just("\"\\u00e9\""),
            Just("\"$serde_json::private::RawValue\""), Just("\"[1]\""), Just("99999999999999999999"),
        ], 0..40)) {
            same_as_value(&parts.concat());
        }

        #[test]
        fn any_value_round_trips(v in arb_value()) {
            let text = serde_json::to_string(&v).unwrap();
            same_as_value(&text);
            let pretty = serde_json::to_string_pretty(&v).unwrap();
            same_as_value(&pretty);
        }
    }

    fn arb_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
            "\\PC{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::vec(("[a-dA-D]{0,3}", inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }
}
