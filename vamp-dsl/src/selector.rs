//! Route and gateway selectors: `label(app)(pricing) and port(8080)`.

/// Checks a selector: known operands with their arguments (regular
/// expressions, or numbers for `port`/`port_index`/`index`), `true`/`false`,
/// combined with the condition operators and parentheses.
///
/// ```
/// use vamp_dsl::selector::validate;
/// assert!(validate("label(winter)(cold) and id(cold)").is_ok());
/// assert!(validate("i(winter)").is_err());
/// assert!(validate("image((").is_err());
/// ```
///
/// # Errors
/// A message saying what is wrong.
pub fn validate(text: &str) -> Result<(), String> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut depth = 0usize;
    let mut expect_operand = true;
    let skip_ws = |i: &mut usize| {
        while *i < chars.len() && chars[*i].is_whitespace() {
            *i += 1;
        }
    };
    loop {
        skip_ws(&mut i);
        if i >= chars.len() {
            break;
        }
        let c = chars[i];
        if expect_operand {
            if c == '(' {
                depth += 1;
                if depth > 64 {
                    return Err("the selector nests too deeply".into());
                }
                i += 1;
                continue;
            }
            if c == '!' {
                i += 1;
                continue;
            }
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i]
                .iter()
                .collect::<String>()
                .to_ascii_lowercase();
            if word == "not" {
                continue;
            }
            if word == "true" || word == "false" {
                expect_operand = false;
                continue;
            }
            let arity = match word.as_str() {
                "name" | "id" | "kind" | "type" | "namespace" | "group" | "image" | "ip" | "host" => 1,
                "port" | "port_index" | "index" => 1,
                "label" => 2,
                "" => return Err(format!("expected a selector operand at character {}", start + 1)),
                other => {
                    return Err(format!(
                        "`{other}` is not a selector operand: use name, id, kind, type, namespace, group, image, label, ip, host, port, port_index or index"
                    ))
                }
            };
            for _ in 0..arity {
                if chars.get(i) != Some(&'(') {
                    return Err(format!("`{word}` must be followed by `(...)`"));
                }
                let open = i;
                let mut level = 0usize;
                let mut end = None;
                while i < chars.len() {
                    match chars[i] {
                        '(' => level += 1,
                        ')' => {
                            level -= 1;
                            if level == 0 {
                                end = Some(i);
                                break;
                            }
                        }
                        '\\' => i += 1,
                        _ => {}
                    }
                    i += 1;
                }
                let end = end.ok_or_else(|| format!("`{word}(` is not closed with `)`"))?;
                let arg: String = chars[open + 1..end].iter().collect();
                i = end + 1;
                if matches!(word.as_str(), "port" | "port_index" | "index") {
                    if arg.trim().parse::<u32>().is_err() {
                        return Err(format!("`{word}` takes a number, not `{arg}`"));
                    }
                } else if arg.len() > 4096 {
                    return Err("a selector regular expression is too long".into());
                } else if let Err(e) = regex::RegexBuilder::new(&arg).size_limit(1 << 20).build() {
                    return Err(format!("`{arg}` is not a valid regular expression: {e}"));
                }
            }
            expect_operand = false;
        } else {
            if c == ')' {
                if depth == 0 {
                    return Err(format!("unbalanced `)` at character {}", i + 1));
                }
                depth -= 1;
                i += 1;
                continue;
            }
            let rest: String = chars[i..]
                .iter()
                .take(3)
                .collect::<String>()
                .to_ascii_lowercase();
            let len = if rest.starts_with("&&") || rest.starts_with("||") {
                2
            } else if rest.starts_with('&') || rest.starts_with('|') {
                1
            } else if rest.starts_with("and") {
                3
            } else if rest.starts_with("or") {
                2
            } else {
                return Err(format!(
                    "expected `and`, `or` or `)` at character {}",
                    i + 1
                ));
            };
            i += len;
            expect_operand = true;
        }
    }
    if expect_operand {
        return Err("the selector ends where an operand was expected".into());
    }
    if depth != 0 {
        return Err("a `(` is not closed".into());
    }
    Ok(())
}
