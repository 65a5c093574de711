from sqlmodel import SQLModel

from keel.db import new_registry


class CapacityTable(SQLModel, registry=new_registry()):
    pass


metadata = CapacityTable.metadata
