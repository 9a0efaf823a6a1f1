//! The tenants (groups) a user may manage: `GET /api/v1/tenants`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::lenient;

/// One tenant (group) the token may manage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tenant {
    #[serde(default, deserialize_with = "lenient::string")]
    pub tenant_id: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub tenant_name: String,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub parent_tenant_id: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The answer of `GET /api/v1/tenants`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantList {
    #[serde(default, rename = "tenantList", deserialize_with = "lenient::list")]
    pub tenants: Vec<Tenant>,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub total_count: Option<u64>,
    /// Other fields of the answer (including `common`), kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_tenants_and_tolerates_a_null_list() {
        let list: TenantList = serde_json::from_value(json!({
            "tenantList": [{"tenantId": "g1", "tenantName": "Demo", "parentTenantId": null, "region": "jp"}],
            "totalCount": 1, "common": {"errorList": []}
        }))
        .unwrap();
        assert_eq!(list.tenants[0].tenant_id, "g1");
        assert_eq!(list.tenants[0].parent_tenant_id, None);
        assert_eq!(list.tenants[0].extra["region"], json!("jp"));
        assert_eq!(list.total_count, Some(1));
        let empty: TenantList = serde_json::from_value(json!({"tenantList": null})).unwrap();
        assert!(empty.tenants.is_empty());
    }
}
