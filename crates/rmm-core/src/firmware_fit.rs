//! Which models a firmware file fits. The cloud does not say; only the file's title
//! ("MX-3071 Firmware v1.2.5") or name ("mx3071_v125.bin") tells, so both are read.

/// A model name reduced for comparison: upper case, letters and digits only
/// ("MX-3071" and "mx3071" are the same model; "MX-M3071" is another).
pub fn model_key(model: &str) -> String {
    model
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Looks like a Sharp model: letters, a dash, then letters and digits with at least one digit
/// ("MX-3071", "BP-50C26", "MX-B467F").
fn looks_like_model(token: &str) -> bool {
    let Some((prefix, rest)) = token.split_once('-') else {
        return false;
    };
    (1..=3).contains(&prefix.len())
        && prefix.chars().all(|c| c.is_ascii_uppercase())
        && !rest.is_empty()
        && rest.chars().all(|c| c.is_ascii_alphanumeric())
        && rest.chars().any(|c| c.is_ascii_digit())
}

/// The models named by a file's title and name, as written in the title when it names them,
/// else in the reduced form of the file name ("MX3071"). Empty when neither tells.
pub fn models_of_file(title: &str, file_name: &str) -> Vec<String> {
    let mut models: Vec<String> = Vec::new();
    for token in
        title.split(|c: char| c.is_whitespace() || c == ',' || c == '/' || c == '(' || c == ')')
    {
        if looks_like_model(token) && !models.iter().any(|m| model_key(m) == model_key(token)) {
            models.push(token.to_owned());
        }
    }
    if models.is_empty() {
        // "mx3071_v125.bin": the part before the first `_`, when it holds letters and digits.
        let stem = file_name.split(['_', '.']).next().unwrap_or_default();
        let has_letters = stem.chars().any(|c| c.is_ascii_alphabetic());
        let has_digits = stem.chars().any(|c| c.is_ascii_digit());
        if has_letters && has_digits && stem.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            models.push(model_key(stem));
        }
    }
    models
}

/// Whether a file whose models are `fits` fits `model`; `None` when the file does not say.
pub fn fits(fits: &[String], model: &str) -> Option<bool> {
    if fits.is_empty() {
        return None;
    }
    let key = model_key(model);
    Some(fits.iter().any(|m| model_key(m) == key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_models_from_title_then_file_name() {
        assert_eq!(
            models_of_file("MX-3071 Firmware v1.2.5", "mx3071_v125.bin"),
            vec!["MX-3071"]
        );
        assert_eq!(
            models_of_file("BP-50C26/BP-70C45 bundle", "x.bin"),
            vec!["BP-50C26", "BP-70C45"]
        );
        assert_eq!(
            models_of_file("Firmware", "mxb467f_v321.bin"),
            vec!["MXB467F"]
        );
        assert!(models_of_file("Security patch", "patch.bin").is_empty());
    }

    #[test]
    fn fitting_compares_reduced_names() {
        let fitting = models_of_file("MX-3071 Firmware v1.2.5", "");
        assert_eq!(fits(&fitting, "MX-3071"), Some(true));
        assert_eq!(fits(&fitting, "MX-M3071"), Some(false));
        assert_eq!(
            fits(&models_of_file("", "mx3071_v1.bin"), "MX-3071"),
            Some(true)
        );
        assert_eq!(fits(&[], "MX-3071"), None);
    }
}
