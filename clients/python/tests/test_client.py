"""quarry_client against a real leader and workers (sbin/local-cluster)."""
import os
import subprocess
import tempfile

import pytest

from quarry_client import Client, QuarryError, types_pb2

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
LOCAL_CLUSTER = os.path.join(ROOT, "sbin", "local-cluster")


@pytest.fixture(scope="module")
def cluster():
    scratch = tempfile.mkdtemp(prefix="quarry-python-")
    env = dict(os.environ, QUARRY_CLUSTER_DIR=os.path.join(scratch, "cluster"))
    leader = subprocess.run([LOCAL_CLUSTER, "start", "--workers", "2", "--slots", "2"],
                            env=env, check=True, capture_output=True, text=True,
                            timeout=60).stdout.strip()
    try:
        yield leader, scratch
    finally:
        subprocess.run([LOCAL_CLUSTER, "stop"], env=env, capture_output=True, timeout=60)


def write_corpus(directory, files):
    os.makedirs(directory)
    for i in range(files):
        with open(os.path.join(directory, f"part-{i}.txt"), "w") as out:
            out.write(f"the cat and the dog {i}\nthe end\n")


def test_wordcount_submitted_watched_to_done_and_its_result_read(cluster):
    leader, scratch = cluster
    write_corpus(os.path.join(scratch, "in"), 5)
    with Client(leader=leader) as client:
        job_id = client.submit("wordcount", [os.path.join(scratch, "in")],
                               os.path.join(scratch, "out"))
        states = [job.state for job in client.watch(job_id, timeout=60)]
        assert states[-1] == types_pb2.JOB_STATE_DONE
        assert client.get(job_id).job.task_counts.done == client.get(job_id).job.task_count
        result = client.result(job_id)
        with open(result.result_path) as tsv:
            counts = dict(line.split("\t") for line in tsv.read().splitlines())
        assert counts["the"] == "15"
        assert job_id in [job.id for job in client.jobs(state=types_pb2.JOB_STATE_DONE)]


def test_submit_wait_cancel_and_cluster(cluster):
    leader, _ = cluster
    with Client(leader=leader) as client:
        assert client.cluster().status == types_pb2.CLUSTER_STATUS_HEALTHY
        assert len(client.cluster().workers) == 2
        done = client.submit("sleep", settings={"ms": "1", "tasks": "3"}, wait=True)
        assert client.get(done).job.state == types_pb2.JOB_STATE_DONE
        slow = client.submit("sleep", settings={"ms": "5000", "tasks": "20"})
        assert client.cancel(slow).state == types_pb2.JOB_STATE_CANCELLED


def test_errors_carry_the_grpc_code(cluster):
    leader, _ = cluster
    import grpc
    with Client(leader=leader) as client:
        with pytest.raises(QuarryError) as missing:
            client.get("job-999999")
        assert missing.value.code == grpc.StatusCode.NOT_FOUND
        with pytest.raises(QuarryError) as bad:
            client.submit("sleep", settings={"tasks": "1"})  # ms is required
        assert bad.value.code == grpc.StatusCode.INVALID_ARGUMENT
        assert "ms" in bad.value.details
