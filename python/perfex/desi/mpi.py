"""gpu_specter.mpi's IO coordinators, which desispec's main_gpu_specter builds around the extraction: who
reads, who extracts, who writes. Without MPI everything happens in this process (NoMPIIOCoordinator); with a
communicator (mpi4py's or anything with its methods) rank 0 reads and writes and all ranks extract
(SerialIOCoordinator), or ranks 0 and 1 read and write while ranks 2.. extract (ParallelIOCoordinator)."""

__all__ = ["NoMPIIOCoordinator", "ParallelIOCoordinator", "SerialIOCoordinator"]


class _Coordinator:
    _read_rank = _write_rank = _worker_root = 0

    @classmethod
    def is_reader(cls, rank):
        return rank == cls._read_rank

    @classmethod
    def is_writer(cls, rank):
        return rank == cls._write_rank

    @classmethod
    def is_worker_root(cls, rank):
        return rank == cls._worker_root

    @classmethod
    def is_worker(cls, rank):
        return rank >= cls._worker_root


class NoMPIIOCoordinator(_Coordinator):
    """Read, extract and write in this process."""

    def __init__(self):
        self.comm = None
        self.rank = 0
        self.size = 1
        self.work_comm = None

    def read(self, func, payload):
        return func()

    def process(self, func, payload):
        return func()

    def write(self, func, payload):
        return func(payload)


class SerialIOCoordinator(_Coordinator):
    """Rank 0 reads and writes; every rank extracts (work_comm is the communicator)."""

    def __init__(self, comm):
        self.comm = comm
        self.rank = comm.rank
        self.size = comm.size
        self.work_comm = comm

    def read(self, func, payload):
        return func() if self.is_reader(self.rank) else payload

    def process(self, func, payload):
        return func() if self.is_worker(self.rank) else payload

    def write(self, func, payload):
        return func(payload) if self.is_writer(self.rank) else payload


class ParallelIOCoordinator(_Coordinator):
    """Rank 0 reads, rank 1 writes, ranks 2.. extract (at least 3 ranks)."""
    _read_rank, _write_rank, _worker_root = 0, 1, 2

    def __init__(self, comm):
        if comm.size < 3:
            raise ValueError(f"ParallelIOCoordinator needs at least 3 MPI ranks, the communicator has {comm.size}")
        self.comm = comm
        self.rank = comm.rank
        self.size = comm.size
        self.work_comm = None
        group = comm.group.Excl([self._read_rank, self._write_rank])
        if self.is_worker(self.rank):
            self.work_comm = comm.Create_group(group)

    def read(self, func, payload):
        if self.is_reader(self.rank):
            self.comm.send(func(), dest=self._worker_root, tag=1)
            return payload
        if self.is_worker_root(self.rank):
            return self.comm.recv(source=self._read_rank, tag=1)
        return payload

    def process(self, func, payload):
        return func() if self.is_worker(self.rank) else payload

    def write(self, func, payload):
        if self.is_worker_root(self.rank):
            self.comm.recv(source=self._write_rank, tag=2)
            self.comm.send(payload, dest=self._write_rank, tag=3)
            return payload
        if self.is_writer(self.rank):
            self.comm.send(payload, dest=self._worker_root, tag=2)
            return func(self.comm.recv(source=self._worker_root, tag=3))
        return payload
