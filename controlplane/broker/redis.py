"""Queue depth on Redis: every queue, priority list and reservation in one scripted round trip."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import redis

from controlplane.broker.base import QueueState
from controlplane.errors import BrokerUnavailable

# Celery's Redis transport keeps each priority level in its own list, named
# "<queue><sep><priority>" (priority 0 is the bare name), so depth is their sum. kombu's
# defaults are sep "\x06\x16" and steps 0, 3, 6, 9. When the fleet's `priority_steps` and
# `sep` are configured (settings.broker_transport_options) we read exactly those lists;
# otherwise every step 0..9 with the default separator.
PRIORITY_SEP = "\x06\x16"
UNACKED_KEY = "unacked"
# kombu keeps an exchange's bindings in a set of "<routing key>\x06\x16<pattern>\x06\x16<queue>".
BINDING_PREFIX = "_kombu.binding."
# Above this many reserved messages (ETA-heavy fleets hold 100,000s) the script only counts
# them (HLEN): reading every value inside a script would block Redis. We then list the delivery
# tags (HKEYS) and fetch only the messages we have not seen before, remembering their route.
MAX_UNACKED_IN_SCRIPT = 2000
FETCH_PAGE = 1000

# One round trip for every queue. Ready: LLEN of the base list and of kombu's default priority
# lists (3, 6, 9), and one EXISTS for the other six suffixes (read only when one exists), summed
# on the server and sent back as one comma-joined string: cheap to parse. Queue names travel as
# one newline-joined argument, which costs a millisecond less than 1,000 keys. Reserved: kombu
# stores each unacked message as JSON [payload, exchange, routing_key]; we read the tail of each
# value (full decode only when that fails) and map (exchange, routing key) to queues through
# kombu's binding sets, as kombu does when it restores them. The default exchange ("") routes by
# queue name.
_DEPTH_SCRIPT = """
local sep = ARGV[2]
local prefix = ARGV[3]
local s = {}
for p = 1, 9 do s[p] = sep .. p end
local steps = {}
for step in string.gmatch(ARGV[7], '[^,]+') do table.insert(steps, sep .. step) end
local counts = {}
local i = 0
for name in string.gmatch(ARGV[1], '[^\\n]+') do
  local q = prefix .. name
  local n = redis.call('LLEN', q)
  if #steps > 0 then
    for _, suffix in ipairs(steps) do n = n + redis.call('LLEN', q .. suffix) end
  else
    n = n + redis.call('LLEN', q .. s[3]) + redis.call('LLEN', q .. s[6])
      + redis.call('LLEN', q .. s[9])
    local rare = redis.call('EXISTS', q .. s[1], q .. s[2], q .. s[4], q .. s[5], q .. s[7],
      q .. s[8])
    if rare > 0 then
      for _, p in ipairs({1, 2, 4, 5, 7, 8}) do n = n + redis.call('LLEN', q .. s[p]) end
    end
  end
  i = i + 1
  counts[i] = n
end
local hlen = redis.call('HLEN', ARGV[4])
local out = {}
if hlen > 0 and hlen <= tonumber(ARGV[6]) then
  local routes = {}
  for _, v in ipairs(redis.call('HVALS', ARGV[4])) do
    local ex, rk = string.match(string.sub(v, -600), ',%s*"([^"\\\\]*)",%s*"([^"\\\\]*)"%]$')
    if not ex then
      local ok, d = pcall(cjson.decode, v)
      if ok and type(d) == 'table' and type(d[2]) == 'string' and type(d[3]) == 'string' then
        ex, rk = d[2], d[3]
      end
    end
    if ex then
      local route = ex .. sep .. rk
      routes[route] = (routes[route] or 0) + 1
    end
  end
  local by_queue = {}
  for route, n in pairs(routes) do
    local cut = string.find(route, sep, 1, true)
    local ex = string.sub(route, 1, cut - 1)
    local rk = string.sub(route, cut + #sep)
    local matched = false
    if ex ~= '' then
      for _, member in ipairs(redis.call('SMEMBERS', ARGV[5] .. ex)) do
        local a = string.find(member, sep, 1, true)
        if a and string.sub(member, 1, a - 1) == rk then
          local b = string.find(member, sep, a + #sep, true)
          if b then
            local queue = string.sub(member, b + #sep)
            by_queue[queue] = (by_queue[queue] or 0) + n
            matched = true
          end
        end
      end
    end
    if not matched then by_queue[rk] = (by_queue[rk] or 0) + n end
  end
  for queue, n in pairs(by_queue) do
    table.insert(out, queue)
    table.insert(out, n)
  end
end
return {table.concat(counts, ','), hlen, out}
"""


class RedisBroker:
    """Depth of Celery queues on Redis, every queue in a single scripted round trip."""

    counts_unacked: ClassVar[bool] = True
    counts_consumers: ClassVar[bool] = False  # Redis lists have no consumers; workers tell us

    def __init__(
        self,
        url: str,
        socket_timeout: float = 2.0,
        key_prefix: str = "",
        max_unacked_in_script: int = MAX_UNACKED_IN_SCRIPT,
        sep: str = PRIORITY_SEP,
        priority_steps: tuple[int, ...] | None = None,
    ) -> None:
        self.url = url
        self.key_prefix = key_prefix  # kombu's `global_keyprefix` transport option
        self.sep = sep  # kombu's `sep`: between a queue's name and a priority, and in bindings
        # kombu's `priority_steps`; None: unknown, every step 0..9 is read
        self.priority_steps = priority_steps
        self.max_unacked_in_script = max_unacked_in_script
        self.client = redis.Redis.from_url(
            url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout
        )
        self._script = self.client.register_script(_DEPTH_SCRIPT)
        self._route_by_tag: dict[bytes, tuple[str, str] | None] = {}

    def ping(self) -> None:
        try:
            self.client.ping()
        except redis.RedisError as exc:
            raise BrokerUnavailable(f"redis broker did not answer: {exc}") from None

    def run_id(self) -> str | None:
        """INFO server's run_id: a new one after every restart of redis-server."""
        try:
            info = self.client.info("server")
        except redis.RedisError as exc:
            raise BrokerUnavailable(f"redis broker did not answer: {exc}") from None
        run_id = info.get("run_id")
        return str(run_id) if run_id else None

    def depths(self, queues: Iterable[str]) -> dict[str, QueueState]:
        """Ready and reserved messages per queue (ETA tasks are still inside `unacked`)."""
        names = list(dict.fromkeys(queues))
        # A newline cannot be in a real queue name (and would split ours): such names are 0.
        sampled = [name for name in names if name and "\n" not in name]
        if not sampled:
            return {name: QueueState(name, 0) for name in names}
        steps = (
            ""
            if self.priority_steps is None
            else ",".join(str(step) for step in self.priority_steps if step)
        )
        args = [
            "\n".join(sampled),
            self.sep,
            self.key_prefix,
            self.key_prefix + UNACKED_KEY,
            self.key_prefix + BINDING_PREFIX,
            self.max_unacked_in_script,
            steps or ("0" if self.priority_steps is not None else ""),
        ]
        try:
            joined, hlen, flat = self._script(keys=[], args=args)
            if int(hlen) > self.max_unacked_in_script:
                unacked = self._unacked_by_scan()
            else:
                unacked = {_text(flat[i]): int(flat[i + 1]) for i in range(0, len(flat), 2)}
        except redis.RedisError as exc:
            raise BrokerUnavailable(f"redis broker did not answer: {exc}") from None
        counts = map(int, _text(joined).split(","))
        depths = {
            name: QueueState(name, count, unacked.get(name, 0))
            for name, count in zip(sampled, counts, strict=True)
        }
        if len(sampled) < len(names):
            depths = {name: depths.get(name) or QueueState(name, 0) for name in names}
        return depths

    def _unacked_by_scan(self) -> dict[str, int]:
        """The script's attribution for a huge hash: only new messages are read, in pages."""
        key = self.key_prefix + UNACKED_KEY
        tags = self.client.hkeys(key)
        known = self._route_by_tag
        self._route_by_tag = {tag: known[tag] for tag in tags if tag in known}
        new = [tag for tag in tags if tag not in known]
        for start in range(0, len(new), FETCH_PAGE):
            page = new[start : start + FETCH_PAGE]
            for tag, value in zip(page, self.client.hmget(key, page), strict=True):
                self._route_by_tag[tag] = None if value is None else _route_of(value)
        routes: Counter[tuple[str, str]] = Counter(
            route for route in self._route_by_tag.values() if route is not None
        )
        tables: dict[str, list[tuple[str, str]]] = {}
        for exchange, _rk in routes:
            if exchange and exchange not in tables:
                members = self.client.smembers(self.key_prefix + BINDING_PREFIX + exchange)
                tables[exchange] = [_binding(member, self.sep) for member in members]
        return attribute_routes(routes, tables)

    def delayed(self) -> int | None:
        return None  # Redis has no delay queues: ETA tasks wait in the workers (scheduled)

    def close(self) -> None:
        self.client.close()


def attribute_routes(
    routes: Mapping[tuple[str, str], int], tables: Mapping[str, list[tuple[str, str]]]
) -> dict[str, int]:
    """Counts per (exchange, routing key) -> counts per queue, by kombu's direct bindings."""
    by_queue: Counter[str] = Counter()
    for (exchange, routing_key), count in routes.items():
        queues = [q for rk, q in tables.get(exchange, []) if rk == routing_key] if exchange else []
        for queue in queues or [routing_key]:
            by_queue[queue] += count
    return dict(by_queue)


def _route_of(value: bytes | str) -> tuple[str, str] | None:
    try:
        decoded = json.loads(value)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(decoded, list) and len(decoded) >= 3:
        exchange, routing_key = decoded[1], decoded[2]
        if isinstance(exchange, str) and isinstance(routing_key, str):
            return exchange, routing_key
    return None


def _binding(member: bytes | str, sep: str = PRIORITY_SEP) -> tuple[str, str]:
    parts = _text(member).split(sep)
    return (parts[0], parts[-1]) if len(parts) >= 3 else ("", "")


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
