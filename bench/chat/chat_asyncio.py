"""The asyncio peer of examples/chat, same design: one ring (1024 lines) for the room, a client that
falls behind is told how many lines it lost, every waiting line written in one batch. asyncio sets
TCP_NODELAY on every TCP transport itself (since Python 3.6). Two coroutines per client (the
handler reads, a writer task writes), asyncio's natural shape for a reader and a writer.

    python3 chat_asyncio.py 127.0.0.1:7003
"""
import asyncio
import collections
import sys

RING = 1024


class Room:
    def __init__(self):
        self.ring = collections.deque(maxlen=RING)  # (seq, sender, bytes)
        self.next_seq = 0
        self.waiters = set()

    def send(self, sender, text):
        self.ring.append((self.next_seq, sender, text))
        self.next_seq += 1
        waiters, self.waiters = self.waiters, set()
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    async def wait(self):
        fut = asyncio.get_running_loop().create_future()
        self.waiters.add(fut)
        await fut


async def writer_task(room, cid, writer):
    pos = room.next_seq
    while True:
        if pos == room.next_seq:
            await room.wait()
        oldest = room.ring[0][0] if room.ring else room.next_seq
        batch = []
        if pos < oldest:
            batch.append(b"*** %d lines dropped (you read too slowly)\n" % (oldest - pos))
            pos = oldest
        for seq, sender, text in list(room.ring)[pos - oldest:]:
            if sender != cid:
                batch.append(text)
        pos = room.next_seq
        if batch:
            writer.write(b"".join(batch))
            await writer.drain()


async def main(host, port):
    room = Room()
    ids = iter(range(1 << 62))

    async def handle(reader, writer):
        cid = next(ids)
        task = asyncio.create_task(writer_task(room, cid, writer))
        prefix = b"user%d: " % cid
        try:
            while True:
                line = await reader.readline()
                if not line or not line.endswith(b"\n"):
                    break
                room.send(cid, prefix + line)
        except (ConnectionError, ValueError):
            pass
        finally:
            task.cancel()
            writer.close()

    server = await asyncio.start_server(handle, host, port, backlog=4096, limit=4096)
    print(f"chat-asyncio: listening on {host}:{port}", file=sys.stderr)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    host, port = (sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:7003").rsplit(":", 1)
    asyncio.run(main(host, int(port)))
