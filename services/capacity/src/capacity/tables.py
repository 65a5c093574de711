from keel.db import new_registry
from sqlmodel import SQLModel


class CapacityTable(SQLModel, registry=new_registry()):
    pass


metadata = CapacityTable.metadata
