//! Stream entries out of replies: `XREADGROUP`'s `[[stream, [[id, [field, value, …]], …]]]` and the
//! claim script's `[cursor, [[id, fields], …], dead]`. An entry whose fields are nil (deleted from the
//! stream while pending) or lack `url` becomes a [`Task`] without a URL: it still gets a result.

use super::resp::Value;
use crate::queue::Task;

/// The tasks of an `XREADGROUP` reply (nil: none arrived within `BLOCK`).
pub fn read(reply: &Value) -> Result<Vec<Task>, String> {
    let streams = reply
        .as_array()
        .ok_or_else(|| format!("XREADGROUP answered {reply:?}"))?;
    let mut tasks = Vec::new();
    for s in streams {
        match s.as_array() {
            Some([_name, list]) => tasks.extend(list_of(list)?),
            _ => return Err(format!("XREADGROUP answered a stream as {s:?}")),
        }
    }
    Ok(tasks)
}

/// The next cursor, the tasks and the number dead-lettered, from the claim script.
pub fn claimed(reply: &Value) -> Result<(String, Vec<Task>, u64), String> {
    match reply.as_array() {
        Some([cursor, list, Value::Int(dead)]) => {
            let cursor = cursor
                .as_str()
                .ok_or_else(|| format!("claim cursor {cursor:?}"))?
                .to_owned();
            Ok((cursor, list_of(list)?, u64::try_from(*dead).unwrap_or(0)))
        }
        _ => Err(format!("the claim script answered {reply:?}")),
    }
}

fn list_of(list: &Value) -> Result<Vec<Task>, String> {
    let items = list
        .as_array()
        .ok_or_else(|| format!("an entry list as {list:?}"))?;
    items.iter().map(entry).collect()
}

fn entry(e: &Value) -> Result<Task, String> {
    let (id, fields) = match e.as_array() {
        Some([id, fields]) => (id, fields),
        _ => return Err(format!("a stream entry as {e:?}")),
    };
    let id = id
        .as_str()
        .ok_or_else(|| format!("a stream entry id as {id:?}"))?
        .to_owned();
    // A script turns a nil into `false`, which comes back as a nil too: both mean "no fields".
    let fields = fields.as_array().unwrap_or(&[]);
    let url = fields
        .chunks(2)
        .find(|kv| kv[0].as_bytes() == Some(b"url"))
        .and_then(|kv| kv.get(1))
        .and_then(|v| v.as_bytes())
        .map(|b| String::from_utf8_lossy(b).into_owned());
    Ok(Task { id, url })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::Bulk(s.as_bytes().to_vec())
    }

    fn entry_value(id: &str, fields: &[&str]) -> Value {
        Value::Array(vec![
            bulk(id),
            Value::Array(fields.iter().map(|f| bulk(f)).collect()),
        ])
    }

    #[test]
    fn reads_entries_with_and_without_url() {
        let reply = Value::Array(vec![Value::Array(vec![
            bulk("s"),
            Value::Array(vec![
                entry_value("1-0", &["url", "http://a/"]),
                entry_value("1-1", &["other", "x"]),
                Value::Array(vec![bulk("1-2"), Value::Nil]),
            ]),
        ])]);
        let tasks = read(&reply).unwrap();
        assert_eq!(tasks.len(), 3);
        assert_eq!(tasks[0].url.as_deref(), Some("http://a/"));
        assert_eq!(
            (tasks[1].id.as_str(), tasks[1].url.as_deref()),
            ("1-1", None)
        );
        assert_eq!(tasks[2].url, None);
        assert_eq!(read(&Value::Nil).unwrap(), vec![]);
        assert!(read(&Value::Int(3)).is_err());
    }

    #[test]
    fn reads_a_claim_reply() {
        let reply = Value::Array(vec![
            bulk("0-0"),
            Value::Array(vec![entry_value("2-0", &["url", "http://b/"])]),
            Value::Int(1),
        ]);
        let (cursor, tasks, dead) = claimed(&reply).unwrap();
        assert_eq!((cursor.as_str(), tasks.len(), dead), ("0-0", 1, 1));
        assert!(claimed(&Value::Array(vec![])).is_err());
    }
}
