//! Makes the JSON schemas we publish (every tool's input and output schema) portable to the
//! mainstream MCP clients: the TypeScript SDK (zod checks that every property is an object
//! schema; ajv warns on formats it does not know), the Python SDK (jsonschema), the MCP
//! Inspector's `--strict` lint, and hosts that map schemas onto a single-`type` dialect.
//!
//! What schemars writes and what we publish instead:
//! - a bare `true` / `false` schema (a `serde_json::Value` field) becomes an object schema:
//!   `{"anyOf": [{"type": "object"}, …every JSON type]}` / `{"not": {}}`;
//! - a schema with no validation keyword at all gets the same explicit any-type `anyOf`;
//! - `"type": [A, B]` becomes `"anyOf": [{"type": A, …A's keywords}, {"type": B}]` (one `type`
//!   per branch, as the spec's examples write a nullable field); in input schemas the `null`
//!   branch is dropped, since an absent parameter and `null` mean the same to us;
//! - `format`s other than the common string formats (`uint64`, `int64`, `double`, …) are
//!   dropped (`minimum: 0` already says unsigned);
//! - `nullable` (OpenAPI, not JSON Schema) is dropped.
//!
//! `problems` lists whatever of that a schema still holds, for the test that walks them all.

use std::sync::Arc;

use rmcp::model::JsonObject;
use serde_json::{Map, Value, json};

/// Which side of a tool a schema describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaSide {
    Input,
    Output,
}

/// String formats every client's validator knows (ajv-formats, jsonschema, the spec's examples).
const KNOWN_FORMATS: &[&str] = &[
    "date-time",
    "date",
    "time",
    "duration",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "uri",
    "uri-reference",
    "uuid",
];

/// Keywords whose value is one schema.
const SCHEMA_KEYWORDS: &[&str] = &[
    "items",
    "contains",
    "not",
    "propertyNames",
    "if",
    "then",
    "else",
    "additionalProperties",
    "unevaluatedProperties",
    "additionalItems",
    "unevaluatedItems",
    "contentSchema",
];
/// Keywords whose value is a list of schemas.
const SCHEMA_LIST_KEYWORDS: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems"];
/// Keywords whose value is a map of name → schema.
const SCHEMA_MAP_KEYWORDS: &[&str] = &[
    "properties",
    "patternProperties",
    "dependentSchemas",
    "$defs",
    "definitions",
];
/// Keywords where `true` / `false` is a plain switch, not a schema (left as they are).
const BOOLEAN_VALUED_KEYWORDS: &[&str] = &[
    "additionalProperties",
    "unevaluatedProperties",
    "additionalItems",
    "unevaluatedItems",
];
/// Keywords that constrain a value (a schema with none of them accepts anything).
const CONSTRAINING_KEYWORDS: &[&str] = &[
    "type",
    "enum",
    "const",
    "multipleOf",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "format",
    "contentMediaType",
    "contentEncoding",
    "contentSchema",
    "maxItems",
    "minItems",
    "uniqueItems",
    "maxContains",
    "minContains",
    "maxProperties",
    "minProperties",
    "required",
    "dependentRequired",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "items",
    "prefixItems",
    "contains",
    "additionalItems",
    "unevaluatedItems",
    "properties",
    "patternProperties",
    "additionalProperties",
    "unevaluatedProperties",
    "propertyNames",
    "dependentSchemas",
    "dependencies",
    "$ref",
    "$dynamicRef",
    "$recursiveRef",
];
/// Keywords that describe a schema as a whole: they stay on the node when its `type` list is
/// split into `anyOf` branches; every other keyword goes to the branch of its type.
const ANNOTATION_KEYWORDS: &[&str] = &[
    "title",
    "description",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    "$schema",
    "$id",
    "$comment",
    "$defs",
    "definitions",
];

/// A schema that accepts any JSON value, written out type by type.
fn any_value() -> Value {
    json!({"anyOf": [
        {"type": "object"},
        {"type": "array"},
        {"type": "string"},
        {"type": "number"},
        {"type": "boolean"},
        {"type": "null"},
    ]})
}

/// The portable form of a schema (see the module's doc).
pub fn portable(schema: &JsonObject, side: SchemaSide) -> Arc<JsonObject> {
    let mut value = Value::Object(schema.clone());
    fix(&mut value, None, side);
    match value {
        Value::Object(map) => Arc::new(map),
        _ => Arc::new(schema.clone()),
    }
}

/// Rewrites the schema at `node`, reached through `keyword`, and everything under it.
fn fix(node: &mut Value, keyword: Option<&str>, side: SchemaSide) {
    if let Value::Bool(b) = node {
        if keyword.is_some_and(|k| BOOLEAN_VALUED_KEYWORDS.contains(&k)) {
            return;
        }
        *node = if *b { any_value() } else { json!({"not": {}}) };
        return;
    }
    let Value::Object(map) = node else {
        return;
    };
    map.remove("nullable");
    if let Some(Value::String(format)) = map.get("format")
        && !KNOWN_FORMATS.contains(&format.as_str())
    {
        map.remove("format");
    }
    if side == SchemaSide::Input {
        drop_null_branches(map);
    }
    split_type_list(map);
    for_each_subschema(map, &mut |child, kw| fix(child, Some(kw), side));
    let constrains = map
        .keys()
        .any(|k| CONSTRAINING_KEYWORDS.contains(&k.as_str()));
    if !constrains
        && keyword != Some("not")
        && let Value::Object(any) = any_value()
    {
        map.extend(any);
    }
}

/// Input side: `null` is the same as absent, so `"type": [X, "null"]` is `X` and an
/// `anyOf` branch `{"type": "null"}` goes (a lone remaining branch is merged into the node).
fn drop_null_branches(map: &mut Map<String, Value>) {
    if let Some(Value::Array(types)) = map.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let only = types.remove(0);
            map.insert("type".to_owned(), only);
        }
    }
    let Some(Value::Array(branches)) = map.get_mut("anyOf") else {
        return;
    };
    branches.retain(|b| b != &json!({"type": "null"}));
    if branches.len() == 1
        && let Some(Value::Object(only)) = branches.pop()
    {
        map.remove("anyOf");
        for (k, v) in only {
            map.entry(k).or_insert(v);
        }
    }
}

/// `"type": [A, B, …]` → `"anyOf": [{"type": A, …}, {"type": B, …}]`, each branch with the
/// keywords that apply to its type.
fn split_type_list(map: &mut Map<String, Value>) {
    let Some(Value::Array(types)) = map.get("type").cloned() else {
        return;
    };
    map.remove("type");
    let mut specific = Map::new();
    let keys: Vec<String> = map.keys().cloned().collect();
    for key in keys {
        if !ANNOTATION_KEYWORDS.contains(&key.as_str())
            && let Some(v) = map.remove(&key)
        {
            specific.insert(key, v);
        }
    }
    let branches: Vec<Value> = types
        .iter()
        .map(|t| {
            let mut branch = Map::new();
            branch.insert("type".to_owned(), t.clone());
            if t != "null" {
                for (k, v) in &specific {
                    if applies_to(k, t.as_str().unwrap_or_default()) {
                        branch.insert(k.clone(), v.clone());
                    }
                }
            }
            Value::Object(branch)
        })
        .collect();
    if let Some(Value::Array(existing)) = map.get("anyOf").cloned() {
        // Both a type list and an anyOf: keep both conditions.
        map.remove("anyOf");
        map.insert(
            "allOf".to_owned(),
            json!([{"anyOf": branches}, {"anyOf": existing}]),
        );
    } else {
        map.insert("anyOf".to_owned(), Value::Array(branches));
    }
}

/// Whether `keyword` constrains values of JSON type `ty` (keywords of no one type go to every
/// branch).
fn applies_to(keyword: &str, ty: &str) -> bool {
    const STRING: &[&str] = &[
        "minLength",
        "maxLength",
        "pattern",
        "format",
        "contentMediaType",
        "contentEncoding",
        "contentSchema",
    ];
    const NUMBER: &[&str] = &[
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
    ];
    const ARRAY: &[&str] = &[
        "items",
        "prefixItems",
        "contains",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minContains",
        "maxContains",
        "additionalItems",
        "unevaluatedItems",
    ];
    const OBJECT: &[&str] = &[
        "properties",
        "patternProperties",
        "additionalProperties",
        "unevaluatedProperties",
        "required",
        "propertyNames",
        "minProperties",
        "maxProperties",
        "dependentRequired",
        "dependentSchemas",
        "dependencies",
    ];
    if STRING.contains(&keyword) {
        ty == "string"
    } else if NUMBER.contains(&keyword) {
        ty == "number" || ty == "integer"
    } else if ARRAY.contains(&keyword) {
        ty == "array"
    } else if OBJECT.contains(&keyword) {
        ty == "object"
    } else {
        true
    }
}

fn for_each_subschema(map: &mut Map<String, Value>, visit: &mut dyn FnMut(&mut Value, &str)) {
    for &key in SCHEMA_MAP_KEYWORDS {
        if let Some(Value::Object(children)) = map.get_mut(key) {
            for child in children.values_mut() {
                visit(child, key);
            }
        }
    }
    for &key in SCHEMA_LIST_KEYWORDS {
        if let Some(Value::Array(children)) = map.get_mut(key) {
            for child in children {
                visit(child, key);
            }
        }
    }
    for &key in SCHEMA_KEYWORDS {
        match map.get_mut(key) {
            Some(Value::Array(children)) if key == "items" => {
                for child in children {
                    visit(child, key);
                }
            }
            Some(child) => visit(child, key),
            None => {}
        }
    }
}

/// Every spot of `schema` that a mainstream client rejects or warns about, as
/// `path: problem` lines (empty: portable).
#[cfg(test)]
pub fn problems(schema: &JsonObject) -> Vec<String> {
    let mut found = Vec::new();
    if schema.get("type") != Some(&json!("object")) {
        found.push("(root): type must be \"object\"".to_owned());
    }
    check(&Value::Object(schema.clone()), "", None, &mut found);
    found
}

#[cfg(test)]
fn check(node: &Value, path: &str, keyword: Option<&str>, found: &mut Vec<String>) {
    let here = if path.is_empty() { "(root)" } else { path };
    match node {
        Value::Bool(b) => {
            if !keyword.is_some_and(|k| BOOLEAN_VALUED_KEYWORDS.contains(&k)) {
                found.push(format!(
                    "{here}: bare {b} where a schema object is expected"
                ));
            }
            return;
        }
        Value::Object(_) => {}
        other => {
            found.push(format!("{here}: {other} is not a schema"));
            return;
        }
    }
    let Value::Object(map) = node else {
        return;
    };
    match map.get("type") {
        Some(Value::Array(types)) => {
            found.push(format!(
                "{here}: type is a list {types:?}: one type per anyOf branch"
            ));
        }
        Some(Value::String(t))
            if ![
                "null", "boolean", "object", "array", "number", "string", "integer",
            ]
            .contains(&t.as_str()) =>
        {
            found.push(format!("{here}: unknown type {t:?}"));
        }
        _ => {}
    }
    if let Some(format) = map.get("format")
        && !format.as_str().is_some_and(|f| KNOWN_FORMATS.contains(&f))
    {
        found.push(format!(
            "{here}: format {format} is unknown to some validators"
        ));
    }
    if map.contains_key("nullable") {
        found.push(format!("{here}: `nullable` is OpenAPI, not JSON Schema"));
    }
    if let Some(Value::String(r)) = map.get("$ref")
        && !r.starts_with('#')
    {
        found.push(format!("{here}: $ref {r} points outside the document"));
    }
    let constrains = map
        .keys()
        .any(|k| CONSTRAINING_KEYWORDS.contains(&k.as_str()));
    if !constrains && keyword != Some("not") {
        found.push(format!(
            "{here}: no validation keyword (accepts anything, like a bare true)"
        ));
    }
    let join = |key: &str, name: &str| {
        if path.is_empty() {
            format!("{key}.{name}")
        } else {
            format!("{path}.{key}.{name}")
        }
    };
    for &key in SCHEMA_MAP_KEYWORDS {
        if let Some(Value::Object(children)) = map.get(key) {
            for (name, child) in children {
                check(child, &join(key, name), Some(key), found);
            }
        }
    }
    for &key in SCHEMA_LIST_KEYWORDS {
        if let Some(Value::Array(children)) = map.get(key) {
            for (i, child) in children.iter().enumerate() {
                check(child, &join(key, &i.to_string()), Some(key), found);
            }
        }
    }
    for &key in SCHEMA_KEYWORDS {
        match map.get(key) {
            Some(Value::Array(children)) if key == "items" => {
                for (i, child) in children.iter().enumerate() {
                    check(child, &join(key, &i.to_string()), Some(key), found);
                }
            }
            Some(child) => {
                let p = if path.is_empty() {
                    key.to_owned()
                } else {
                    format!("{path}.{key}")
                };
                check(child, &p, Some(key), found);
            }
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(v: Value) -> JsonObject {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn what_schemars_writes_is_made_portable() {
        let raw = object(json!({
            "type": "object",
            "properties": {
                "answer": true,
                "never": false,
                "loose": {"description": "anything"},
                "count": {"type": "integer", "format": "uint64", "minimum": 0},
                "size": {"type": ["integer", "null"], "format": "int64", "minimum": 0, "description": "bytes"},
                "when": {"type": "string", "format": "date-time"},
                "inner": {"anyOf": [{"$ref": "#/$defs/Inner"}, {"type": "null"}]},
                "map": {"type": "object", "additionalProperties": true},
                "old": {"type": "string", "nullable": true},
            },
            "$defs": {"Inner": {"type": "object", "properties": {"x": {"type": "number", "format": "double"}}}},
        }));
        assert!(problems(&raw).len() >= 7, "{:?}", problems(&raw));
        for side in [SchemaSide::Input, SchemaSide::Output] {
            let fixed = portable(&raw, side);
            assert_eq!(
                problems(&fixed),
                Vec::<String>::new(),
                "{side:?}: {fixed:?}"
            );
            let p = &fixed["properties"];
            assert_eq!(p["never"], json!({"not": {}}));
            assert_eq!(p["count"], json!({"type": "integer", "minimum": 0}));
            assert_eq!(p["when"]["format"], "date-time");
            assert_eq!(p["map"]["additionalProperties"], true);
            assert_eq!(p["answer"]["anyOf"].as_array().map(Vec::len), Some(6));
            assert_eq!(p["loose"]["description"], "anything");
            assert!(p["old"].get("nullable").is_none());
            assert!(
                fixed["$defs"]["Inner"]["properties"]["x"]
                    .get("format")
                    .is_none()
            );
        }
        let input = portable(&raw, SchemaSide::Input);
        assert_eq!(
            input["properties"]["size"],
            json!({"type": "integer", "minimum": 0, "description": "bytes"})
        );
        assert_eq!(
            input["properties"]["inner"],
            json!({"$ref": "#/$defs/Inner"})
        );
        let output = portable(&raw, SchemaSide::Output);
        assert_eq!(
            output["properties"]["size"],
            json!({"description": "bytes", "anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}]})
        );
        assert_eq!(
            output["properties"]["inner"],
            json!({"anyOf": [{"$ref": "#/$defs/Inner"}, {"type": "null"}]})
        );
    }
}
