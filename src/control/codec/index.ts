/** Codecs between the 128-byte memif control frames and the typed messages of `../messages`. */
export { AckFrame, NoneFrame } from './ack';
export { AddRegionFrame } from './add-region';
export { AddRingFrame } from './add-ring';
export { ConnectedFrame, ConnectFrame } from './connect';
export { ControlFrame, decodeFrame, encodeFrame, tryEncodeFrame } from './control-frame';
export { DisconnectFrame } from './disconnect';
export { formatErrors, type DecodeError } from './errors';
export { HelloFrame } from './hello';
export { InitFrame } from './init';
export { MessageFrameType } from './message-codec';
