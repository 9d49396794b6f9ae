//! The CN a written-back group gets: `Group_<objectId>`, or with the display-name option
//! `<first 51 chars of the trimmed display name>_<last 12 chars of the objectId>` (Cloud
//! Sync's `Append(Append(Left(Trim([displayName]),51),"_"),Mid([objectId],25,12))`).

use super::CnFormat;

/// Maximum CN length in AD (schema rangeUpper of `cn`).
pub const CN_MAX: usize = 64;

/// Compute the CN (unescaped) for a group.
pub fn group_cn(format: CnFormat, object_id: &str, display_name: &str) -> String {
    let id = object_id.trim().to_ascii_lowercase();
    match format {
        CnFormat::ObjectId => format!("Group_{id}"),
        CnFormat::DisplayName => {
            let tail: String = id
                .chars()
                .rev()
                .take(12)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            format!("{}_{}", left_utf16(dotnet_trim(display_name), 51), tail)
        }
    }
}

/// .NET `String.Trim()`: removes leading and trailing Unicode white space.
fn dotnet_trim(s: &str) -> &str {
    s.trim_matches(char::is_whitespace)
}

/// .NET `Left(s, n)`: the first `n` UTF-16 code units, never splitting a surrogate pair.
fn left_utf16(s: &str, n: usize) -> String {
    let mut units = 0;
    let mut out = String::new();
    for c in s.chars() {
        let w = c.len_utf16();
        if units + w > n {
            break;
        }
        units += w;
        out.push(c);
    }
    out
}

/// Length of a CN as AD counts it (UTF-16 code units).
pub fn cn_len(cn: &str) -> usize {
    cn.encode_utf16().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3a5c3221-c465-48c0-95b8-e9305786a271";

    #[test]
    fn object_id_format() {
        assert_eq!(
            group_cn(CnFormat::ObjectId, ID, "Sales"),
            "Group_3a5c3221-c465-48c0-95b8-e9305786a271"
        );
    }

    #[test]
    fn display_name_format_matches_the_documented_examples() {
        assert_eq!(
            group_cn(CnFormat::DisplayName, ID, "Sales"),
            "Sales_e9305786a271"
        );
        assert_eq!(
            group_cn(CnFormat::DisplayName, ID, "  Administrators \t"),
            "Administrators_e9305786a271"
        );
    }

    #[test]
    fn long_names_are_cut_at_51_and_fit_the_cn_limit() {
        let name = "A".repeat(80);
        let cn = group_cn(CnFormat::DisplayName, ID, &name);
        assert_eq!(cn, format!("{}_e9305786a271", "A".repeat(51)));
        assert_eq!(cn_len(&cn), CN_MAX);
        // exactly 51 stays whole, 52 loses one
        assert_eq!(
            group_cn(CnFormat::DisplayName, ID, &"b".repeat(51)),
            format!("{}_e9305786a271", "b".repeat(51))
        );
        assert_eq!(
            group_cn(CnFormat::DisplayName, ID, &"b".repeat(52)),
            format!("{}_e9305786a271", "b".repeat(51))
        );
    }

    #[test]
    fn surrogate_pairs_are_never_split() {
        let name = format!("{}😀😀", "x".repeat(50));
        let cn = group_cn(CnFormat::DisplayName, ID, &name);
        assert_eq!(cn, format!("{}_e9305786a271", "x".repeat(50)));
        assert!(cn_len(&cn) <= CN_MAX);
    }

    #[test]
    fn characters_needing_escapes_are_kept_verbatim_in_the_cn() {
        let cn = group_cn(
            CnFormat::DisplayName,
            ID,
            "R&D, Europe + \"Labs\" <#1>; a=b\\c",
        );
        assert_eq!(cn, "R&D, Europe + \"Labs\" <#1>; a=b\\c_e9305786a271");
        let dn = crate::ad::Dn::parse("OU=WB,DC=lab")
            .unwrap()
            .child("CN", &cn);
        let text = dn.to_string();
        assert!(
            text.starts_with(r#"CN=R&D\, Europe \+ \"Labs\" \<#1\>\; a\=b\\c_e9305786a271,"#),
            "{text}"
        );
        assert_eq!(crate::ad::Dn::parse(&text).unwrap(), dn);
    }
}
