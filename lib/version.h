#ifndef TI_VERSION_H
#define TI_VERSION_H
#define TI_VERSION "0.1.0"
#endif
