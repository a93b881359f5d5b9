import PorticoInspect
print("portico")
