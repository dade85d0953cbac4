"""A python-etcd (Debian python3-etcd 0.4.5) session against one etcd client URL.

Usage: python3 session.py <host> <port>
Prints one JSON object: each step's outcome under its name, results as plain dicts and errors
as {"error": <exception class>, "message": str(exception)}, so the Node test can compare them
exactly. Indexes are printed as the server sent them; the test makes them relative.
"""
import json
import sys
import threading
import time
import urllib.request

import etcd


def node(result):
    return {
        "action": result.action,
        "key": result.key,
        "value": result.value,
        "dir": result.dir,
        "ttl": result.ttl,
        "createdIndex": result.createdIndex,
        "modifiedIndex": result.modifiedIndex,
        "etcd_index": result.etcd_index,
    }


def attempt(fn):
    try:
        return node(fn())
    except etcd.EtcdException as e:
        return {"error": type(e).__name__, "message": str(e)}


def watchers(base_url):
    with urllib.request.urlopen(base_url + "/v2/stats/store") as res:
        return json.loads(res.read())["watchers"]


def wait_in_thread(client, key, box, **kwargs):
    def run():
        box["result"] = attempt(lambda: client.read(key, wait=True, timeout=10, **kwargs))
    thread = threading.Thread(target=run)
    thread.start()
    return thread


def until_watching(base_url, count):
    deadline = time.time() + 5
    while watchers(base_url) < count and time.time() < deadline:
        time.sleep(0.02)


def session(host, port):
    base_url = "http://%s:%d" % (host, port)
    c = etcd.Client(host=host, port=port)
    out = {}
    out["machines"] = c.machines
    out["leader"] = c.leader
    out["version"] = c.version
    out["cluster_version"] = c.cluster_version
    out["write"] = attempt(lambda: c.write("/py/a", "1"))
    out["read"] = attempt(lambda: c.read("/py/a"))
    out["get"] = attempt(lambda: c.get("/py/a"))
    out["test_and_set"] = attempt(lambda: c.test_and_set("/py/a", "2", "1"))
    out["test_and_set_failed"] = attempt(lambda: c.test_and_set("/py/a", "3", "1"))
    out["create_existing"] = attempt(lambda: c.write("/py/a", "x", prevExist=False))
    out["update_missing"] = attempt(lambda: c.write("/py/none", "x", prevExist=True))
    out["read_missing"] = attempt(lambda: c.read("/py/missing"))
    out["append1"] = attempt(lambda: c.write("/py/queue", "job1", append=True))
    out["append2"] = attempt(lambda: c.write("/py/queue", "job2", append=True))
    out["ttl"] = attempt(lambda: c.write("/py/t", "v", ttl=100))
    out["mkdir"] = attempt(lambda: c.write("/py/dir", None, dir=True))
    out["not_a_file"] = attempt(lambda: c.delete("/py/dir"))
    listing = c.read("/py", recursive=True, sorted=True)
    out["recursive_leaves"] = [[leaf.key, leaf.value] for leaf in listing.leaves]
    out["recursive_children"] = [[child.key, child.dir] for child in listing.children]
    first = out["write"]["modifiedIndex"]
    out["wait_replay"] = attempt(lambda: c.read("/py/a", wait=True, waitIndex=first + 1))
    before = watchers(base_url)
    box = {}
    thread = wait_in_thread(c, "/py/watched", box)
    until_watching(base_url, before + 1)
    out["write_watched"] = attempt(lambda: c.write("/py/watched", "w"))
    thread.join()
    out["wait_future"] = box.get("result")
    obj = c.read("/py/a")
    obj.value = "updated"
    out["update_obj"] = attempt(lambda: c.update(obj))
    out["update_stale"] = attempt(lambda: c.update(obj))
    out["delete"] = attempt(lambda: c.delete("/py/a"))
    out["delete_dir_not_empty"] = attempt(lambda: c.delete("/py/queue", dir=True))
    out["delete_recursive"] = attempt(lambda: c.delete("/py/queue", recursive=True))
    out["read_deleted"] = attempt(lambda: c.read("/py/a"))
    # A directory's expiry wakes a watcher on a key below it, with the directory's expire event.
    c.write("/py/expdir", None, dir=True, ttl=1)
    inside = c.write("/py/expdir/in", "x")
    out["expire_wakes_below"] = attempt(lambda: c.read("/py/expdir/in", wait=True, waitIndex=inside.modifiedIndex + 1, timeout=10))
    out["store_stats_keys"] = sorted(c.store_stats.keys())
    out["lock"] = lock_handover(host, port, base_url)
    return out


def lock_handover(host, port, base_url):
    """etcd.Lock: in-order keys with a TTL, a sorted read and a watch on the key ahead."""
    first = etcd.Lock(etcd.Client(host=host, port=port), "job")
    second = etcd.Lock(etcd.Client(host=host, port=port), "job")
    steps = []
    first.acquire(lock_ttl=60)
    steps.append(["first acquired", first.is_acquired, second.is_acquired])
    before = watchers(base_url)
    thread = threading.Thread(target=lambda: second.acquire(lock_ttl=60, timeout=10))
    thread.start()
    until_watching(base_url, before + 1)
    steps.append(["second waiting", first.is_acquired, second.is_acquired])
    first.release()
    thread.join()
    steps.append(["handed over", first.is_acquired, second.is_acquired])
    second.release()
    steps.append(["released", first.is_acquired, second.is_acquired])
    return steps


if __name__ == "__main__":
    print(json.dumps(session(sys.argv[1], int(sys.argv[2])), indent=1, sort_keys=True))
