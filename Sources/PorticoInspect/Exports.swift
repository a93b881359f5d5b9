@_exported import PorticoRouting
