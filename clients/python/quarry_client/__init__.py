"""quarry_client: a small Python client of a Quarry leader (gRPC).

    from quarry_client import Client
    client = Client(leader="127.0.0.1:7070", token=None)
    job_id = client.submit("wordcount", ["/data/in"], "/data/out", wait=True)
    print(client.result(job_id).result_path)

Messages are the generated classes of proto/quarry/v1 (quarry.v1.*_pb2),
built with grpc_python_plugin by CMake next to this package. Every error is
a QuarryError carrying the gRPC status code. See docs/python.md.
"""
import os
import sys

import grpc

# The generated modules import each other as quarry.v1.*: their directory
# goes on the path.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "_gen"))

from quarry.v1 import cluster_service_pb2 as cluster_pb2  # noqa: E402
from quarry.v1 import cluster_service_pb2_grpc as cluster_grpc  # noqa: E402
from quarry.v1 import job_service_pb2 as job_pb2  # noqa: E402
from quarry.v1 import job_service_pb2_grpc as job_grpc  # noqa: E402
from quarry.v1 import types_pb2  # noqa: E402

__all__ = ["Client", "QuarryError", "types_pb2", "job_pb2", "cluster_pb2"]

TERMINAL_STATES = frozenset([types_pb2.JOB_STATE_DONE, types_pb2.JOB_STATE_FAILED,
                             types_pb2.JOB_STATE_CANCELLED])


class QuarryError(Exception):
    """A failed call: `code` is the grpc.StatusCode, `details` its message."""

    def __init__(self, code, details):
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details


def _call(method, request, **kwargs):
    try:
        return method(request, **kwargs)
    except grpc.RpcError as error:
        raise QuarryError(error.code(), error.details()) from None


class Client:
    """A connection to one leader. `token`: the bearer token of a principal
    of the leader's --auth_file (None without auth). `timeout`: seconds
    allowed to each call (watch: to the whole stream)."""

    def __init__(self, leader="127.0.0.1:7070", token=None, timeout=30.0):
        self._channel = grpc.insecure_channel(leader)
        self._jobs = job_grpc.JobServiceStub(self._channel)
        self._cluster = cluster_grpc.ClusterServiceStub(self._channel)
        self._metadata = [("authorization", "Bearer " + token)] if token else []
        self._timeout = timeout

    def close(self):
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _unary(self, method, request, timeout=None):
        return _call(method, request, metadata=self._metadata,
                     timeout=timeout or self._timeout)

    def submit(self, kind, inputs=(), output="", settings=None, command=None,
               wait=False, wait_timeout=3600.0):
        """Submits a job; returns its id (after it ends when `wait`)."""
        spec = types_pb2.JobSpec(kind=kind, inputs=list(inputs), output_dir=output,
                                 settings=dict(settings or {}), command=list(command or []))
        job_id = self._unary(self._jobs.SubmitJob, job_pb2.SubmitJobRequest(spec=spec)).job_id
        if wait:
            for _ in self.watch(job_id, timeout=wait_timeout):
                pass
        return job_id

    def get(self, job_id, tasks=False, attempts=False):
        """The GetJobResponse (its .job, and .tasks / .attempts if asked)."""
        return self._unary(self._jobs.GetJob, job_pb2.GetJobRequest(
            job_id=job_id, include_tasks=tasks, include_attempts=attempts))

    def jobs(self, state=None, page_size=0):
        """Every job (newest first), optionally of one JobState; pages
        through ListJobs until the last page."""
        token = ""
        for _ in range(1_000_000):  # Bounded: far beyond any real listing.
            page = self._unary(self._jobs.ListJobs, job_pb2.ListJobsRequest(
                state=state or types_pb2.JOB_STATE_UNSPECIFIED, page_size=page_size,
                page_token=token))
            yield from page.jobs
            token = page.next_page_token
            if not token:
                return

    def watch(self, job_id, timeout=3600.0):
        """Yields the job (types_pb2.Job) at once and after each change,
        until it ends."""
        stream = _call(self._jobs.WatchJob, job_pb2.WatchJobRequest(job_id=job_id),
                       metadata=self._metadata, timeout=timeout)
        try:
            for event in stream:
                yield event.job
                if event.job.state in TERMINAL_STATES:
                    return
        except grpc.RpcError as error:
            raise QuarryError(error.code(), error.details()) from None

    def cancel(self, job_id):
        """Cancels the job; returns it as it ended."""
        return self._unary(self._jobs.CancelJob, job_pb2.CancelJobRequest(job_id=job_id)).job

    def result(self, job_id):
        """The GetJobResultResponse: output files, result path, summary."""
        return self._unary(self._jobs.GetJobResult, job_pb2.GetJobResultRequest(job_id=job_id))

    def cluster(self):
        """The GetClusterResponse: status, workers, slots."""
        return self._unary(self._cluster.GetCluster, cluster_pb2.GetClusterRequest())
