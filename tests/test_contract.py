"""The typed contract: the names the committed stubs describe are, at run time, the classes grpc compiles
from the proto, compiled on first use; and mypy really checks code against the stubs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from components.common import contract
from components.common.contract import contract_pb2, contract_pb2_grpc, load_proto

ROOT = Path(__file__).resolve().parents[1]


def test_lazy_names_are_the_one_set_of_compiled_classes() -> None:
    messages, services = load_proto(Path(contract.__file__).parent, contract.CONTRACT_FILE)
    assert contract_pb2.Product is messages.Product
    assert contract_pb2_grpc.add_COMaxServicer_to_server is services.add_COMaxServicer_to_server
    product = contract_pb2.Product(id="p1", size_bytes=7)
    assert isinstance(product, messages.Product)
    assert contract_pb2.Product.FromString(product.SerializeToString()).size_bytes == 7


def test_importing_any_component_compiles_no_proto() -> None:
    modules = [f"components.{name}.{room}" for name in ("databroker", "comax", "geotriples_adapter", "orchestrator")
               for room in ("app", "servicer")]
    code = (f"import sys, {', '.join(modules)}\n"
            "from components.common import contract\n"
            "assert contract._compiled.cache_info().currsize == 0\n"
            "assert not {'contract_pb2', 'orchestrator_pb2'} & set(sys.modules), sorted(sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr


MISUSE = '''
from __future__ import annotations

import grpc

from components.common.contract import contract_pb2
from components.common.contract_pb2_grpc import COMaxServicer


def wrong_field(path: str) -> contract_pb2.Product:
    return contract_pb2.Product(size_bytes=path)


def wrong_reply(product: contract_pb2.Product) -> contract_pb2.COMaxResult:
    return product


class WrongRequest(COMaxServicer):
    def analyze(self, request: contract_pb2.GeoData, context: grpc.ServicerContext) -> contract_pb2.COMaxResult:
        return contract_pb2.COMaxResult(product=request.path)
'''


def test_mypy_checks_code_against_the_stubs(tmp_path: Path) -> None:
    """Were the stubs not found, ``ignore_missing_imports`` would make every message ``Any`` without a word."""
    (tmp_path / "misuse.py").write_text(MISUSE)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "setup.cfg"), "--cache-dir", str(tmp_path / "cache"),
         str(tmp_path / "misuse.py")],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    errors = [line.split(": error: ", 1)[1] for line in done.stdout.splitlines() if ": error: " in line]
    assert errors == [
        'Argument "size_bytes" to "Product" has incompatible type "str"; expected "int"  [arg-type]',
        'Incompatible return value type (got "Product", expected "COMaxResult")  [return-value]',
        'Argument 1 of "analyze" is incompatible with supertype "components.common.contract_pb2_grpc.COMaxServicer"; '
        'supertype defines the argument type as "Product"  [override]',
    ], done.stdout
