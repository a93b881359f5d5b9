@_exported import PorticoInspect
