//! PowerShell exports of `Get-MgGroupOnPremiseSyncBehavior` / `Get-MgBetaGroupOnPremiseSyncBehavior`
//! (JSON, CSV, CLIXML) are evidence of a group's source-of-authority state.

use serde_json::Value;

use crate::util::{audit_json, fixture};

/// The fixture group whose state tenant.json lacks.
const MYSTERY: &str = "2a000000-0000-4000-8000-000000003007";

fn json_export(id: &str, managed: bool) -> String {
    format!(
        r#"[
  {{
    "Id": "{id}",
    "IsCloudManaged": {managed},
    "AdditionalProperties": {{
      "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#groups('{id}')/onPremisesSyncBehavior/$entity"
    }}
  }}
]"#
    )
}

fn csv_export(id: &str, managed: bool) -> String {
    let b = if managed { "True" } else { "False" };
    format!(
        "#TYPE Selected.Microsoft.Graph.PowerShell.Models.MicrosoftGraphOnPremisesSyncBehavior\r\n\"Id\",\"IsCloudManaged\"\r\n\"{id}\",\"{b}\"\r\n"
    )
}

fn clixml_export(id: &str, managed: bool) -> String {
    format!(
        r#"<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">
  <Obj RefId="0">
    <TN RefId="0">
      <T>Microsoft.Graph.Beta.PowerShell.Models.MicrosoftGraphOnPremisesSyncBehavior</T>
      <T>System.Object</T>
    </TN>
    <ToString>Microsoft.Graph.Beta.PowerShell.Models.MicrosoftGraphOnPremisesSyncBehavior</ToString>
    <Props>
      <S N="Id">{id}</S>
      <B N="IsCloudManaged">{managed}</B>
    </Props>
  </Obj>
</Objs>
"#
    )
}

fn reason(v: &Value, target: &str, id: &str) -> String {
    v["forecast"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["target"] == target)
        .unwrap()["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == id)
        .unwrap()["reason"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn exports_of_the_state_are_evidence_in_json_csv_and_clixml() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text, want) in [
        (
            "state.json",
            json_export(MYSTERY, true),
            "soa-original-missing",
        ),
        (
            "state.csv",
            csv_export(MYSTERY, false),
            "soa-rollback-pending",
        ),
        (
            "state.clixml",
            clixml_export(MYSTERY, true),
            "soa-original-missing",
        ),
    ] {
        let f = dir.path().join(name);
        std::fs::write(&f, text).unwrap();
        let v = audit_json(
            dir.path(),
            &fixture("soa"),
            &["--evidence", f.to_str().unwrap()],
        );
        // Mystery's SID names no AD object: converted, it is missing its original.
        assert_eq!(reason(&v, "gwb", MYSTERY), want, "{name}");
        let gap =
            v["findings"].as_array().unwrap().iter().any(|x| {
                x["code"] == "evidence-missing" && x["subject"] == "onPremisesSyncBehavior"
            });
        assert!(!gap, "{name}: every state is known now");
        let out = crate::util::run_ok(crate::util::gwb().arg("inspect").arg(&f));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("Get-MgGroupOnPremiseSyncBehavior"),
            "{name}: {text}"
        );
    }
}

#[test]
fn a_state_for_a_group_not_in_the_snapshot_is_reported_not_invented() {
    let dir = tempfile::tempdir().unwrap();
    let stranger = "5d000000-0000-4000-8000-000000000001";
    let f = dir.path().join("state.json");
    std::fs::write(&f, json_export(stranger, true)).unwrap();
    let v = audit_json(
        dir.path(),
        &fixture("soa"),
        &["--evidence", f.to_str().unwrap()],
    );
    let notes = v["findings"].to_string();
    assert!(
        notes.contains(stranger) && notes.contains("not in the snapshot"),
        "{notes}"
    );
    assert!(
        v["forecast"][0]["groups"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["id"] != stranger)
    );
    // Mystery stays unknown.
    assert_eq!(reason(&v, "gwb", MYSTERY), "soa-state-unknown");
}
