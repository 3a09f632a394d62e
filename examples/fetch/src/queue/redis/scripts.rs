//! The two Lua scripts that make the worker's multi-step moves atomic on the server. Redis runs a script
//! alone (no other command runs in between), so a result, its done mark and its acknowledgement are
//! written together or not at all.
//!
//! Redis does not roll a script back when a command in it fails, so each script does every check
//! *before* its first write.
//!
//! They are loaded with `SCRIPT LOAD` on every new connection (the server may have restarted and lost
//! its script cache) and called with `EVALSHA`; a `NOSCRIPT` answer (someone ran `SCRIPT FLUSH`) falls
//! back to `EVAL` with the text.
//!
//! Keys are named in `KEYS`, as Redis asks; they are not in one cluster hash slot, so this runs on a
//! single Redis server (or a primary with replicas), not on Redis Cluster.

/// Finish one entry: write a result to a stream, record the id as done, acknowledge the entry.
///
/// `KEYS`: source stream, target stream (results, or the dead-letter stream), done-set.
/// `ARGV`: group, entry id, then the target entry's field/value pairs.
/// Returns 1 when written, 0 when the id was already done (then it only acknowledges again: a second
/// delivery of a finished entry, or a retry whose first reply was lost with the connection).
pub const FINISH: &str = r#"
if redis.call('SISMEMBER', KEYS[3], ARGV[2]) == 1 then
  redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
  return 0
end
redis.call('XADD', KEYS[2], '*', unpack(ARGV, 3))
redis.call('SADD', KEYS[3], ARGV[2])
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return 1
"#;

/// Take over entries idle in other consumers (`XAUTOCLAIM`), dead-lettering those delivered too often.
///
/// `KEYS`: source stream, dead-letter stream, done-set.
/// `ARGV`: group, consumer, min idle ms, cursor, count, max deliveries.
/// Returns `{next cursor, {entry…}, dead-lettered count}`, each entry as `XREADGROUP` gives it
/// (`{id, {field, value, …}}`). An entry delivered more than max deliveries times (counting this claim)
/// goes to the dead-letter stream with fields `id`, `url`, `error`, `deliveries`, and is marked done and
/// acknowledged in the same step; an entry already done is only acknowledged.
pub const CLAIM: &str = r#"
local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], 'COUNT', ARGV[5])
local out = {}
local dead = 0
for _, e in ipairs(r[2]) do
  if e then
    local id = e[1]
    local p = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)[1]
    local n = p and p[4] or 0
    if redis.call('SISMEMBER', KEYS[3], id) == 1 then
      redis.call('XACK', KEYS[1], ARGV[1], id)
    elseif n > tonumber(ARGV[6]) then
      local url = ''
      local f = e[2] or {}
      for i = 1, #f, 2 do
        if f[i] == 'url' then url = f[i + 1] end
      end
      redis.call('XADD', KEYS[2], '*', 'id', id, 'url', url, 'error',
        'delivered ' .. n .. ' times without a result (the workers holding it stopped or crashed)',
        'deliveries', tostring(n))
      redis.call('SADD', KEYS[3], id)
      redis.call('XACK', KEYS[1], ARGV[1], id)
      dead = dead + 1
    else
      out[#out + 1] = e
    end
  end
end
return {r[1], out, dead}
"#;
