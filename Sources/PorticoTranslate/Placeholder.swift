import PorticoAPI
