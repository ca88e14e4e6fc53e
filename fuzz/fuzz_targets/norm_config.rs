//! The normalizer's `norm_config.json`, for the kinds the agent uses, then its rules
//! applied to a package row.
#![no_main]
use libfuzzer_sys::fuzz_target;
use serde_json::json;
use syscollector::inventory::normalizer::Normalizer;

fuzz_target!(|data: &[u8]| {
    for kind in ["linux", "macos"] {
        if let Ok(n) = Normalizer::from_json(data, kind, &mut |_warn| {}) {
            let mut row = json!({
                "name": "Microsoft Office", "version": "16.0.1", "vendor": "Microsoft",
                "format": "pkg", "source": "utilities", "location": "/Applications/x.app"
            })
            .as_object()
            .cloned()
            .unwrap_or_default();
            n.normalize(&mut row);
            let _ = n.is_excluded(&row);
        }
    }
});
