from keel.db import new_registry
from sqlmodel import SQLModel


class LedgerTable(SQLModel, registry=new_registry()):
    pass


metadata = LedgerTable.metadata
