//! Every documented function: its arity (checked when parsing) and its behaviour, null rules
//! included. "APP-REF" is Microsoft's "Reference for writing expressions for attribute
//! mappings" (functions-for-customizing-application-data, 2026-04-10); "CS-REF" is Cloud
//! Sync's expression reference (reference-expressions, 2025-04-09). Where both are silent the
//! rule is gwb's and says so.

use base64::Engine as _;

use super::eval::Eval;
use super::parse::Expr;
use super::regex;
use super::value::{Stop, Value};

pub struct Spec {
    pub name: &'static str,
    pub min: usize,
    pub max: usize,
}

const MANY: usize = usize::MAX;

const fn s(name: &'static str, min: usize, max: usize) -> Spec {
    Spec { name, min, max }
}

static SPECS: &[Spec] = &[
    s("Append", 2, 2),
    s("AppRoleAssignmentsComplex", 1, 1),
    s("AssertiveAppRoleAssignmentsComplex", 1, 1),
    s("BitAnd", 2, 2),
    s("CBool", 1, 1),
    s("CDate", 1, 1),
    s("Coalesce", 1, MANY),
    s("ConvertFromBase64", 1, 2),
    s("ConvertToBase64", 1, 1),
    s("ConvertToUTF8Hex", 1, 1),
    s("Count", 1, 1),
    s("CRef", 1, 1),
    s("CStr", 1, 1),
    s("DateAdd", 3, 3),
    s("DateDiff", 3, 3),
    s("DateFromNum", 1, 1),
    s("DefaultDomain", 0, 0),
    s("DNComponent", 2, 2),
    s("Error", 1, 1),
    s("FormatDateTime", 3, 4),
    s("Guid", 0, 0),
    s("IgnoreFlowIfNullOrEmpty", 1, 1),
    s("IIF", 3, 3),
    s("InStr", 2, 4),
    s("IsNull", 1, 1),
    s("IsNullOrEmpty", 1, 1),
    s("IsPresent", 1, 1),
    s("IsString", 1, 1),
    s("Item", 2, 2),
    s("Join", 2, MANY),
    s("Left", 2, 2),
    s("Len", 1, 1),
    s("Mid", 3, 3),
    s("NormalizeDiacritics", 1, 1),
    s("Not", 1, 1),
    s("Now", 0, 0),
    s("NumFromDate", 1, 1),
    s("PCase", 1, 2),
    s("RandomString", 5, 6),
    s("Redact", 1, 1),
    s("RemoveDuplicates", 1, 1),
    s("Replace", 2, 7),
    s("SelectUniqueValue", 2, MANY),
    s("SingleAppRoleAssignment", 1, 1),
    s("Split", 2, 2),
    s("StringFromSid", 1, 1),
    s("StripSpaces", 1, 1),
    s("Switch", 4, MANY),
    s("ToLower", 1, 2),
    s("ToUpper", 1, 2),
    s("Trim", 1, 1),
    s("Word", 3, 3),
];

/// The function of this name (case-insensitive), as documented.
pub fn lookup(name: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.name.eq_ignore_ascii_case(name))
}

/// Every function gwb knows, by its documented name.
pub fn names() -> impl Iterator<Item = &'static str> {
    SPECS.iter().map(|s| s.name)
}

fn err(msg: impl Into<String>) -> Stop {
    Stop::Error(msg.into())
}

fn text_of(f: &str, v: &Value) -> Result<Option<String>, Stop> {
    match v {
        Value::Null => Ok(None),
        Value::Multi(vs) if vs.is_empty() => Ok(None),
        Value::Multi(vs) if vs.len() > 1 => Err(err(format!(
            "{f} needs one value, but got a multi-valued attribute with {} values",
            vs.len()
        ))),
        Value::Bin(_) => Err(err(format!("{f} needs a string, but got a binary value"))),
        other => Ok(other.text()),
    }
}

fn int_of(f: &str, what: &str, v: &Value) -> Result<i64, Stop> {
    match v {
        Value::Int(n) => Ok(*n),
        other => match text_of(f, other)? {
            None => Err(err(format!("the {what} of {f} is null"))),
            Some(t) => t
                .trim()
                .parse::<i64>()
                .map_err(|_| err(format!("the {what} of {f} is not an integer: {t:?}"))),
        },
    }
}

/// True, false or not a Boolean at all.
fn truth(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Int(n) => Some(*n != 0),
        Value::Null => Some(false),
        other => {
            let t = other.text()?;
            let t = t.trim();
            if t.eq_ignore_ascii_case("true") {
                Some(true)
            } else if t.eq_ignore_ascii_case("false") {
                Some(false)
            } else {
                t.parse::<i64>().ok().map(|n| n != 0)
            }
        }
    }
}

fn char_slice(s: &str, start0: usize, len: usize) -> String {
    s.chars().skip(start0).take(len).collect()
}

/// Apply a string function to one value, or to each value of a multi-valued one.
fn map_text(v: Value, f: impl Fn(&str) -> String) -> Value {
    match v {
        Value::Multi(vs) => Value::Multi(vs.iter().map(|s| f(s)).collect()),
        Value::Null => Value::Null,
        other => match other.text() {
            Some(t) => Value::Str(f(&t)),
            None => other,
        },
    }
}

pub(crate) fn call(
    ev: &mut Eval<'_>,
    name: &str,
    args: &[Option<Expr>],
    depth: usize,
) -> Result<Value, Stop> {
    match name {
        // APP-REF: appends suffix to source. Null is undocumented: gwb appends to "" (a null
        // source gives the suffix alone; a null suffix gives the source).
        "Append" => {
            let a = ev.req(name, args, 0, depth)?;
            let b = ev.req(name, args, 1, depth)?;
            let a = text_of(name, &a)?;
            let b = text_of(name, &b)?;
            Ok(Value::Str(format!(
                "{}{}",
                a.unwrap_or_default(),
                b.unwrap_or_default()
            )))
        }
        // APP-REF: `BitAnd(&HF, &HF7)` = 7. A null operand gives null (gwb).
        "BitAnd" => {
            let a = ev.req(name, args, 0, depth)?;
            let b = ev.req(name, args, 1, depth)?;
            if a.is_null() || b.is_null() {
                return Ok(Value::Null);
            }
            Ok(Value::Int(
                int_of(name, "first value", &a)? & int_of(name, "second value", &b)?,
            ))
        }
        // APP-REF: "If the expression evaluates to a non-zero value, then CBool returns True,
        // else it returns False."
        "CBool" => {
            let v = ev.req(name, args, 0, depth)?;
            match truth(&v) {
                Some(b) => Ok(Value::Bool(b)),
                None => Err(err(format!("CBool cannot read {} as a Boolean", v.render()))),
            }
        }
        // APP-REF: "Returns the first source value that isn't NULL"; all null and no default
        // gives NULL. Arguments after the first non-null one are not evaluated.
        "Coalesce" => {
            for i in 0..args.len() {
                if let Some(v) = ev.arg(args, i, depth)?
                    && !v.is_null()
                {
                    return Ok(v);
                }
            }
            Ok(Value::Null)
        }
        // CS-REF: default encoding Unicode (UTF-16LE); `ASCII` and `UTF8` also accepted.
        "ConvertFromBase64" => {
            let v = ev.req(name, args, 0, depth)?;
            let enc = ev
                .arg(args, 1, depth)?
                .and_then(|e| e.text())
                .unwrap_or_else(|| "Unicode".into());
            let Some(t) = text_of(name, &v)? else {
                return Ok(Value::Null);
            };
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(t.trim())
                .map_err(|e| err(format!("ConvertFromBase64: {t:?} is not base64: {e}")))?;
            let s = match enc.to_ascii_lowercase().as_str() {
                "unicode" => {
                    let units: Vec<u16> = bytes
                        .chunks(2)
                        .map(|c| u16::from_le_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                        .collect();
                    String::from_utf16_lossy(&units)
                }
                "utf8" => String::from_utf8_lossy(&bytes).into_owned(),
                "ascii" => bytes
                    .iter()
                    .map(|b| if b.is_ascii() { *b as char } else { '?' })
                    .collect(),
                other => return Err(err(format!("ConvertFromBase64: unknown encoding {other:?}"))),
            };
            Ok(Value::Str(s))
        }
        // APP-REF: `ConvertToBase64("Hello world!")` = "SABlAGwAbABvACAAdwBvAHIAbABkACEA"
        // (base64 of the UTF-16LE bytes).
        "ConvertToBase64" => {
            let v = ev.req(name, args, 0, depth)?;
            Ok(match text_of(name, &v)? {
                None => Value::Null,
                Some(t) => {
                    let bytes: Vec<u8> = t.encode_utf16().flat_map(u16::to_le_bytes).collect();
                    Value::Str(base64::engine::general_purpose::STANDARD.encode(bytes))
                }
            })
        }
        // APP-REF: `ConvertToUTF8Hex("Hello world!")` = 48656C6C6F20776F726C6421.
        "ConvertToUTF8Hex" => {
            let v = ev.req(name, args, 0, depth)?;
            Ok(match text_of(name, &v)? {
                None => Value::Null,
                Some(t) => Value::Str(t.bytes().map(|b| format!("{b:02X}")).collect()),
            })
        }
        // APP-REF: the number of values of a multi-valued attribute.
        "Count" => {
            let v = ev.req(name, args, 0, depth)?;
            Ok(Value::Int(match &v {
                Value::Multi(vs) => vs.len() as i64,
                Value::Null => 0,
                _ => 1,
            }))
        }
        // CS-REF uses `CRef([dn])` to pass a DN as a reference; the value is the DN itself.
        "CRef" | "Redact" => ev.req(name, args, 0, depth),
        // APP-REF: `CStr([dn])` returns the DN; numbers and Booleans become strings.
        "CStr" => {
            let v = ev.req(name, args, 0, depth)?;
            Ok(match text_of(name, &v)? {
                None => Value::Null,
                Some(t) => Value::Str(t),
            })
        }
        "CDate" | "DateAdd" | "DateDiff" | "DateFromNum" | "FormatDateTime" | "NumFromDate" => {
            Err(Stop::Unforecastable(format!(
                "gwb does not evaluate the date function {name} (group provisioning to AD has no date attributes)"
            )))
        }
        "DefaultDomain" => Err(Stop::Unforecastable(
            "DefaultDomain() is the tenant's default verified domain, which the bundle does not hold".into(),
        )),
        "Now" => Err(Stop::Unforecastable(
            "Now() is the time the provisioning service evaluates it".into(),
        )),
        "Guid" => Err(Stop::Unforecastable(
            "Guid() generates a new random GUID each time".into(),
        )),
        "RandomString" => Err(Stop::Unforecastable(
            "RandomString() generates a random string each time".into(),
        )),
        "SelectUniqueValue" => Err(Stop::Unforecastable(
            "SelectUniqueValue() checks each candidate for uniqueness in AD at the time of creation (and Microsoft supports it only for HR- and API-driven provisioning to AD)".into(),
        )),
        "AppRoleAssignmentsComplex"
        | "AssertiveAppRoleAssignmentsComplex"
        | "SingleAppRoleAssignment" => Err(Stop::Unforecastable(format!(
            "{name} reads the object's app role assignments, which a group provisioned to AD does not have"
        ))),
        // CS-REF: the value of the Nth RDN from the left, `DNComponent(CRef([dn]),1)` → `Joe`
        // for `cn=Joe,ou=…`. A number beyond the last RDN gives null (gwb).
        "DNComponent" => {
            let dn = ev.req(name, args, 0, depth)?;
            let n = ev.req(name, args, 1, depth)?;
            let n = int_of(name, "component number", &n)?;
            let Some(dn) = text_of(name, &dn)? else {
                return Ok(Value::Null);
            };
            if n < 1 {
                return Err(err("DNComponent numbers components from 1"));
            }
            Ok(split_dn(&dn)
                .get((n - 1) as usize)
                .map(|rdn| match rdn.find('=') {
                    Some(i) => Value::Str(rdn[i + 1..].trim().to_string()),
                    None => Value::Str(rdn.trim().to_string()),
                })
                .unwrap_or(Value::Null))
        }
        // CS-REF: fails the object with a custom error.
        "Error" => {
            let m = ev.req(name, args, 0, depth)?;
            Err(err(format!(
                "Error({}) fails the object",
                m.text().unwrap_or_default()
            )))
        }
        // APP-REF: "ignore the attribute and drop it from the flow if the enclosed function or
        // attribute is NULL or empty".
        "IgnoreFlowIfNullOrEmpty" => {
            let v = ev.req(name, args, 0, depth)?;
            if v.is_null_or_empty() {
                Err(Stop::IgnoreFlow)
            } else {
                Ok(v)
            }
        }
        // APP-REF: IIF(condition, valueIfTrue, valueIfFalse); only the branch taken is
        // evaluated. A null condition is false ("the condition check fails").
        "IIF" => {
            let c = ev.req(name, args, 0, depth)?;
            let b = truth(&c).ok_or_else(|| {
                err(format!("the condition of IIF is not a Boolean: {}", c.render()))
            })?;
            ev.req(name, args, if b { 1 } else { 2 }, depth)
        }
        // APP-REF: 1-based position, `InStr("The quick brown fox","quick")` = 5,
        // `InStr("repEated","e",3,vbBinaryCompare)` = 7; CS-REF: 0 when not found. A null
        // string gives null, as in VBA (gwb).
        "InStr" => {
            let a = ev.req(name, args, 0, depth)?;
            let b = ev.req(name, args, 1, depth)?;
            let start = match ev.arg(args, 2, depth)? {
                Some(v) => int_of(name, "start", &v)?,
                None => 1,
            };
            let text_compare = match ev.arg(args, 3, depth)? {
                None => false,
                Some(v) => match v.text().as_deref() {
                    Some(t) if t.eq_ignore_ascii_case("vbTextCompare") || t == "1" => true,
                    Some(t) if t.eq_ignore_ascii_case("vbBinaryCompare") || t == "0" => false,
                    _ => {
                        return Err(err(format!(
                            "InStr compares with vbTextCompare or vbBinaryCompare, not {}",
                            v.render()
                        )));
                    }
                },
            };
            let (Some(a), Some(b)) = (text_of(name, &a)?, text_of(name, &b)?) else {
                return Ok(Value::Null);
            };
            if start < 1 {
                return Err(err("InStr counts its start from 1"));
            }
            let (hay, needle) = if text_compare {
                (a.to_lowercase(), b.to_lowercase())
            } else {
                (a, b)
            };
            let hay: Vec<char> = hay.chars().collect();
            let needle: Vec<char> = needle.chars().collect();
            let from = (start - 1) as usize;
            if from > hay.len() {
                return Ok(Value::Int(0));
            }
            if needle.is_empty() {
                return Ok(Value::Int(start));
            }
            let pos = hay[from..]
                .windows(needle.len())
                .position(|w| w == needle.as_slice());
            Ok(Value::Int(pos.map(|p| (p + from + 1) as i64).unwrap_or(0)))
        }
        // APP-REF: "For an attribute, a Null is expressed by the absence of the attribute."
        "IsNull" => Ok(Value::Bool(ev.req(name, args, 0, depth)?.is_null())),
        // APP-REF: true if the attribute is absent or an empty string.
        "IsNullOrEmpty" => Ok(Value::Bool(ev.req(name, args, 0, depth)?.is_null_or_empty())),
        // APP-REF: a string that is neither null nor empty; the inverse of IsNullOrEmpty.
        "IsPresent" => Ok(Value::Bool(!ev.req(name, args, 0, depth)?.is_null_or_empty())),
        // APP-REF: "If the expression can be evaluated to a string type"; CS-REF: "Used to
        // determine if CStr() can be successful".
        "IsString" => {
            let v = ev.req(name, args, 0, depth)?;
            Ok(Value::Bool(match &v {
                Value::Null | Value::Bin(_) => false,
                Value::Multi(vs) => vs.len() == 1,
                _ => true,
            }))
        }
        // APP-REF: 1-based, "Index 0 shouldn't be used"; CS-REF: "Throws an error if index is
        // out of bounds."
        "Item" => {
            let v = ev.req(name, args, 0, depth)?;
            let i = ev.req(name, args, 1, depth)?;
            let i = int_of(name, "index", &i)?;
            let values: Vec<String> = match v {
                Value::Null => return Ok(Value::Null),
                Value::Multi(vs) => vs,
                other => other.text().into_iter().collect(),
            };
            if i < 1 || i as u64 > values.len() as u64 {
                return Err(err(format!(
                    "Item index {i} is out of bounds (the attribute has {} value(s); the first is 1)",
                    values.len()
                )));
            }
            Ok(Value::Str(values[(i - 1) as usize].clone()))
        }
        // APP-REF: multi-valued sources are joined value by value; the example
        // `Join(", ", "", [surname], [givenName])` = "Doe, John" shows empty sources are left
        // out, and gwb leaves out null ones too.
        "Join" => {
            let sep = ev.req(name, args, 0, depth)?;
            let sep = text_of(name, &sep)?.unwrap_or_default();
            let mut parts: Vec<String> = Vec::new();
            for i in 1..args.len() {
                match ev.arg(args, i, depth)? {
                    None | Some(Value::Null) => {}
                    Some(Value::Multi(vs)) => parts.extend(vs.into_iter().filter(|s| !s.is_empty())),
                    Some(v) => {
                        if let Some(t) = text_of(name, &v)?
                            && !t.is_empty()
                        {
                            parts.push(t);
                        }
                    }
                }
            }
            Ok(Value::Str(parts.join(&sep)))
        }
        // APP-REF: numChars 0 → ""; < 0 → the input; null → ""; fewer characters → all.
        "Left" => {
            let v = ev.req(name, args, 0, depth)?;
            let n = ev.req(name, args, 1, depth)?;
            let n = int_of(name, "number of characters", &n)?;
            let Some(t) = text_of(name, &v)? else {
                return Ok(Value::Str(String::new()));
            };
            Ok(Value::Str(if n < 0 {
                t
            } else {
                char_slice(&t, 0, n as usize)
            }))
        }
        // APP-REF: null or empty → 0; `Len(42568)` = 5, `Len(42568.75)` = 8.
        "Len" => {
            let v = ev.req(name, args, 0, depth)?;
            Ok(Value::Int(
                text_of(name, &v)?.map(|t| t.chars().count() as i64).unwrap_or(0),
            ))
        }
        // APP-REF: 1-based start; a length past the end gives the rest. A start past the end
        // gives "" and a null source gives "" (gwb, as Left); a start below 1 is an error.
        "Mid" => {
            let v = ev.req(name, args, 0, depth)?;
            let start = ev.req(name, args, 1, depth)?;
            let len = ev.req(name, args, 2, depth)?;
            let start = int_of(name, "start", &start)?;
            let len = int_of(name, "length", &len)?;
            if start < 1 {
                return Err(err(format!("Mid counts its start from 1, not {start}")));
            }
            if len < 0 {
                return Err(err(format!("the length of Mid cannot be negative ({len})")));
            }
            let Some(t) = text_of(name, &v)? else {
                return Ok(Value::Str(String::new()));
            };
            Ok(Value::Str(char_slice(&t, (start - 1) as usize, len as usize)))
        }
        "NormalizeDiacritics" => {
            let v = ev.req(name, args, 0, depth)?;
            Ok(map_text(v, super::diacritics::normalize))
        }
        // APP-REF: "If source value is True, returns False. Otherwise, returns True."
        "Not" => {
            let v = ev.req(name, args, 0, depth)?;
            Ok(Value::Bool(truth(&v) != Some(true)))
        }
        // APP-REF: first character of each word upper case, the rest lower case
        // (`PCase("PABLO GONSALVES (SECOND)")` = "Pablo Gonsalves (Second)"); with
        // wordSeparators only those characters separate words.
        "PCase" => {
            let v = ev.req(name, args, 0, depth)?;
            let seps = match ev.arg(args, 1, depth)? {
                Some(s) => Some(text_of(name, &s)?.unwrap_or_default()),
                None => None,
            };
            Ok(map_text(v, |t| pcase(t, seps.as_deref())))
        }
        "RemoveDuplicates" => {
            let v = ev.req(name, args, 0, depth)?;
            Ok(match v {
                Value::Multi(vs) => {
                    let mut out: Vec<String> = Vec::with_capacity(vs.len());
                    for s in vs {
                        if !out.contains(&s) {
                            out.push(s);
                        }
                    }
                    Value::Multi(out)
                }
                other => other,
            })
        }
        "Replace" => replace(ev, args, depth),
        // APP-REF: splits a string into a multi-valued array at the delimiter. Null → null.
        "Split" => {
            let v = ev.req(name, args, 0, depth)?;
            let d = ev.req(name, args, 1, depth)?;
            let d = text_of(name, &d)?.unwrap_or_default();
            let Some(t) = text_of(name, &v)? else {
                return Ok(Value::Null);
            };
            Ok(Value::Multi(if d.is_empty() {
                vec![t]
            } else {
                t.split(d.as_str()).map(str::to_string).collect()
            }))
        }
        // CS-REF: a binary SID as its string form. A value that already is one (Graph's
        // onPremisesSecurityIdentifier) is kept; base64 text is decoded first.
        "StringFromSid" => {
            let v = ev.req(name, args, 0, depth)?;
            let bytes = match v {
                Value::Null => return Ok(Value::Null),
                Value::Bin(b) => b,
                other => {
                    let t = text_of(name, &other)?.unwrap_or_default();
                    if t.starts_with("S-") || t.starts_with("s-") {
                        return Ok(Value::Str(t));
                    }
                    base64::engine::general_purpose::STANDARD
                        .decode(t.trim())
                        .map_err(|_| err(format!("StringFromSid: {t:?} is not a SID")))?
                }
            };
            crate::ad::ids::sid_from_bytes(&bytes)
                .map(Value::Str)
                .ok_or_else(|| err("StringFromSid: the value is not a binary SID"))
        }
        // APP-REF: removes every space (" ") character.
        "StripSpaces" => {
            let v = ev.req(name, args, 0, depth)?;
            Ok(map_text(v, |t| t.replace(' ', "")))
        }
        "Switch" => switch(ev, args, depth),
        // APP-REF: culture rules, Invariant culture by default. gwb applies the invariant
        // (Unicode default) mapping for every culture.
        "ToLower" | "ToUpper" => {
            let v = ev.req(name, args, 0, depth)?;
            let _culture = ev.arg(args, 1, depth)?;
            Ok(if name == "ToLower" {
                map_text(v, str::to_lowercase)
            } else {
                map_text(v, str::to_uppercase)
            })
        }
        // CS-REF: "removes leading and trailing white spaces", per value of a multi-valued
        // attribute. Null stays null (gwb).
        "Trim" => {
            let v = ev.req(name, args, 0, depth)?;
            Ok(map_text(v, |t| t.trim().to_string()))
        }
        // APP-REF: number < 1 → ""; null → ""; too few words → ""; delimiters is a set of
        // characters (`Word("This,string!has&many separators",3,",!&#")` = "has").
        "Word" => {
            let v = ev.req(name, args, 0, depth)?;
            let n = ev.req(name, args, 1, depth)?;
            let d = ev.req(name, args, 2, depth)?;
            let n = int_of(name, "word number", &n)?;
            let d = text_of(name, &d)?.unwrap_or_default();
            let Some(t) = text_of(name, &v)? else {
                return Ok(Value::Str(String::new()));
            };
            if n < 1 {
                return Ok(Value::Str(String::new()));
            }
            let word = t
                .split(|c: char| d.contains(c))
                .filter(|w| !w.is_empty())
                .nth((n - 1) as usize);
            Ok(Value::Str(word.unwrap_or_default().to_string()))
        }
        other => Err(err(format!("gwb has no evaluation for {other}"))),
    }
}

/// APP-REF: `Switch(source, defaultValue, key1, value1, …)`, case-sensitive; a null source
/// matches the key `""` (`Switch([statusFlag], "Default Value", "true", "1", "", "0")` gives 0
/// when statusFlag is empty). An omitted default gives null. Only the chosen value is
/// evaluated.
fn switch(ev: &mut Eval<'_>, args: &[Option<Expr>], depth: usize) -> Result<Value, Stop> {
    let src = ev.req("Switch", args, 0, depth)?;
    let src = text_of("Switch", &src)?.unwrap_or_default();
    let mut i = 2;
    while i + 1 < args.len() {
        let key = ev.arg(args, i, depth)?;
        let key = match &key {
            Some(k) => text_of("Switch", k)?.unwrap_or_default(),
            None => String::new(),
        };
        if key == src {
            return Ok(ev.arg(args, i + 1, depth)?.unwrap_or(Value::Null));
        }
        i += 2;
    }
    Ok(ev.arg(args, 1, depth)?.unwrap_or(Value::Null))
}

/// APP-REF's `Replace(source, oldValue, regexPattern, regexGroupName, replacementValue,
/// replacementAttributeName, template)`. The mode is chosen by which slots are filled (an empty
/// slot is absent; `""` is present):
/// regexPattern + regexGroupName + replacementAttributeName (no replacementValue) →
/// APP-REF's fallback ("If source has a value, source is returned", else the named group of
/// the pattern applied to replacementAttributeName; CS-REF describes the opposite and gwb
/// follows APP-REF's worked example); regexPattern + regexGroupName + replacementValue → the
/// text of the named group in each match is replaced; regexPattern + replacementValue → a
/// regular-expression replace with .NET substitutions; oldValue + template → every oldValue in
/// template becomes source; oldValue + replacementValue → every oldValue in source is
/// replaced. A null source gives null (gwb).
fn replace(ev: &mut Eval<'_>, args: &[Option<Expr>], depth: usize) -> Result<Value, Stop> {
    const F: &str = "Replace";
    let has = |i: usize| matches!(args.get(i), Some(Some(_)));
    let source = ev.req(F, args, 0, depth)?;
    let text_arg = |ev: &mut Eval<'_>, i: usize| -> Result<String, Stop> {
        let v = ev.arg(args, i, depth)?.unwrap_or(Value::Null);
        Ok(text_of(F, &v)?.unwrap_or_default())
    };
    if has(2) && has(3) && has(5) && !has(4) {
        if let Some(s) = text_of(F, &source)?
            && !s.is_empty()
        {
            return Ok(Value::Str(s));
        }
        let pattern = text_arg(ev, 2)?;
        let group = text_arg(ev, 3)?;
        let other = ev.arg(args, 5, depth)?.unwrap_or(Value::Null);
        let Some(other) = text_of(F, &other)? else {
            return Ok(Value::Null);
        };
        let re = ev.engine.regex.get(&pattern)?;
        let caps = re
            .captures(&other)
            .map_err(|e| regex::run_error(&pattern, e))?;
        return Ok(caps
            .and_then(|c| c.name(&group).map(|m| Value::Str(m.as_str().to_string())))
            .unwrap_or(Value::Null));
    }
    if has(2) && has(4) {
        let pattern = text_arg(ev, 2)?;
        let group = if has(3) { Some(text_arg(ev, 3)?) } else { None };
        let replacement = text_arg(ev, 4)?;
        let Some(s) = text_of(F, &source)? else {
            return Ok(Value::Null);
        };
        let re = ev.engine.regex.get(&pattern)?;
        if let Some(g) = &group
            && !re.capture_names().any(|n| n == Some(g.as_str()))
        {
            return Err(err(format!(
                "Replace: the pattern {pattern:?} has no group named {g:?}"
            )));
        }
        let mut out = String::new();
        let mut last = 0;
        for caps in re.captures_iter(s.as_str()) {
            let caps = caps.map_err(|e| regex::run_error(&pattern, e))?;
            let Some(m) = caps.get(0) else { continue };
            match &group {
                None => {
                    out.push_str(&s[last..m.start()]);
                    regex::expand(&re, &caps, &s, &replacement, &mut out);
                    last = m.end();
                }
                Some(g) => {
                    // A group inside a lookbehind can start before the end of the previous
                    // replacement; such an overlapping capture is left as it is.
                    if let Some(gm) = caps.name(g).filter(|gm| gm.start() >= last) {
                        out.push_str(&s[last..gm.start()]);
                        out.push_str(&replacement);
                        last = gm.end();
                    }
                }
            }
            if out.len() > super::eval::MAX_VALUE_BYTES {
                return Err(err(format!(
                    "a value grew past {} bytes",
                    super::eval::MAX_VALUE_BYTES
                )));
            }
        }
        out.push_str(&s[last..]);
        return Ok(Value::Str(out));
    }
    if has(1) && has(6) {
        let old = text_arg(ev, 1)?;
        let template = text_arg(ev, 6)?;
        let Some(s) = text_of(F, &source)? else {
            return Ok(Value::Null);
        };
        return bounded_replace(&template, &old, &s);
    }
    if has(1) && has(4) {
        let old = text_arg(ev, 1)?;
        let new = text_arg(ev, 4)?;
        let Some(s) = text_of(F, &source)? else {
            return Ok(Value::Null);
        };
        return bounded_replace(&s, &old, &new);
    }
    Err(err(
        "Replace needs oldValue with replacementValue or template, or regexPattern with replacementValue (or regexGroupName with replacementAttributeName)",
    ))
}

fn bounded_replace(s: &str, old: &str, new: &str) -> Result<Value, Stop> {
    if old.is_empty() {
        return Ok(Value::Str(s.to_string()));
    }
    let n = s.matches(old).count();
    let size = s.len() + n.saturating_mul(new.len());
    if size > super::eval::MAX_VALUE_BYTES {
        return Err(err(format!(
            "a value grew past {} bytes",
            super::eval::MAX_VALUE_BYTES
        )));
    }
    Ok(Value::Str(s.replace(old, new)))
}

fn pcase(t: &str, seps: Option<&str>) -> String {
    let is_sep = |c: char| match seps {
        Some(s) => s.contains(c),
        None => !(c.is_alphanumeric() || c == '\''),
    };
    let mut out = String::with_capacity(t.len());
    let mut start = true;
    for c in t.chars() {
        if is_sep(c) {
            out.push(c);
            start = true;
        } else if start {
            out.extend(c.to_uppercase());
            start = false;
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// A DN's RDNs, left to right, honouring `\,` escapes.
fn split_dn(dn: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in dn.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            ',' => {
                out.push(&dn[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < dn.len() || !dn.is_empty() {
        out.push(&dn[start..]);
    }
    out
}
